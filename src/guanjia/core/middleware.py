"""Keeps the project chosen in the console's project switcher on the request."""


class CurrentProjectMiddleware:
    """Sets `request.current_project_id` from the session; views use it as the default filter.

    The switcher only narrows what is shown; scope is enforced by the queries regardless.
    """

    SESSION_KEY = "guanjia_project_id"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.current_project_id = None
        if hasattr(request, "session"):
            request.current_project_id = request.session.get(self.SESSION_KEY)
        return self.get_response(request)
