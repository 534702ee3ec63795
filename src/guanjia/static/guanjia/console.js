// Send the CSRF token with every htmx request.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// Export buttons follow the filters: the list refreshes through htmx and pushes its query string
// into the address bar, so the export takes the current one when clicked.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-gj-export]");
  if (!link) return;
  const url = new URL(link.href, window.location.origin);
  const params = new URLSearchParams(window.location.search);
  params.delete("page");
  url.search = params.toString();
  link.href = url.toString();
});
