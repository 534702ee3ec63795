"""Reports as PDF with WeasyPrint: the periodic reports (the same `ReportDocument` as the page, on A4
paper) and the case collection's booklet (`casebook.Booklet`).

Chinese text needs a CJK font: the setup installs Debian's fonts-noto-cjk, which fontconfig finds
as "Noto Sans CJK SC"; WeasyPrint itself needs pango (libpango-1.0-0, libpangoft2-1.0-0).
"""

from django.template.loader import render_to_string

from .document import ReportDocument


def render_html_pdf(template_name: str, context: dict) -> bytes:
    """A template rendered to HTML and printed by WeasyPrint (page size, margins and running
    headers come from the template's own `@page` rules)."""
    # Imported here: WeasyPrint loads pango when imported, which only these downloads need.
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=".").write_pdf()


def render_pdf(doc: ReportDocument) -> bytes:
    return render_html_pdf("reports/periodic/report_pdf.html", {"doc": doc, "report": doc.report})


def render_booklet_pdf(booklet) -> bytes:
    """The case collection: cover, contents with page numbers, one chapter per study."""
    return render_html_pdf("reports/casebook/booklet_pdf.html", {"booklet": booklet})
