"""Template context shared by every console page: the projects for the switcher."""

from guanjia.org.queries import projects_for


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def switcher_projects():
        return list(projects_for(user).only("id", "name", "company__name"))

    current = None
    if request.current_project_id:
        current = next((p for p in switcher_projects() if p.id == request.current_project_id), None)
    return {"switcher_projects": switcher_projects, "current_project": current}
