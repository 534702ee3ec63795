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

// Behaviours declared in the markup. The Content-Security-Policy allows no inline scripts or
// on…= handlers (docs/security.md), so a page asks for them with data attributes instead:
//   <select data-gj-autosubmit>           submits its form when another option is chosen;
//   <form data-gj-confirm="question">     asks before the form is submitted;
//   <button data-gj-confirm="question">   asks before this button submits its form;
//   <input type=checkbox data-gj-check-all="name">  ticks every checkbox of that name in its table.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("select[data-gj-autosubmit]") && target.form) target.form.submit();
});

// Capturing the click (the box is already ticked then) sets the others before the change event
// reaches listeners on the page, such as the workbench's count of selected requests.
document.addEventListener(
  "click",
  (event) => {
    const target = event.target;
    if (!target.matches("input[type=checkbox][data-gj-check-all]")) return;
    const boxes = target.closest("table").querySelectorAll(`input[name="${target.dataset.gjCheckAll}"]`);
    boxes.forEach((box) => {
      box.checked = target.checked;
    });
  },
  true,
);

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-gj-confirm]");
  if (button && !window.confirm(button.dataset.gjConfirm)) event.preventDefault();
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("form[data-gj-confirm]") && !window.confirm(form.dataset.gjConfirm)) event.preventDefault();
});

// Alpine components of the hotline intake (cases:case_new) and of a WeChat draft (wechat:draft_detail):
// the caller picked from the lookup results, kept in hidden inputs of the request form. This file
// loads before Alpine, so the components are registered when Alpine starts.
document.addEventListener("alpine:init", () => {
  const pickedCaller = (focusAfter) => () => ({
    party: "",
    partyLabel: "",
    units: "",
    unitLabel: "",
    init() {
      this.take(this.$root.dataset);
    },
    take(d) {
      this.party = d.party || "";
      this.partyLabel = d.partyLabel || "";
      this.units = d.units || "";
      this.unitLabel = d.unitLabel || "";
    },
    get unitIds() {
      return this.units.split(",").filter(Boolean);
    },
    pick(button) {
      const d = button.dataset;
      this.take(d);
      const project = document.getElementById("id_project");
      if (d.project && project) project.value = d.project;
      const phone = document.getElementById("id_caller_phone");
      if (d.phone && phone) phone.value = d.phone;
      if (focusAfter) document.getElementById("id_case_type")?.focus();
    },
    clear() {
      this.take({});
      if (focusAfter) document.getElementById("id_lookup")?.focus();
    },
    first() {
      document.querySelector("#lookup-results [data-pick]")?.click();
    },
    focusResults() {
      document.querySelector("#lookup-results [data-pick]")?.focus();
    },
  });
  window.Alpine.data("hotline", pickedCaller(true));
  window.Alpine.data("draftIntake", pickedCaller(false));
});
