from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from guanjia.core.middleware import CurrentProjectMiddleware
from guanjia.org.queries import projects_for


@login_required
def home(request):
    return render(request, "core/home.html", {})


@login_required
@require_POST
def switch_project(request):
    """Remember the project chosen in the switcher; an empty choice means all projects in scope."""
    project_id = request.POST.get("project") or None
    if project_id and projects_for(request.user).filter(pk=project_id).exists():
        request.session[CurrentProjectMiddleware.SESSION_KEY] = int(project_id)
    else:
        request.session.pop(CurrentProjectMiddleware.SESSION_KEY, None)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
