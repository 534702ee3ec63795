"""Periodic reports as PDF with WeasyPrint: the same `ReportDocument` as the page, on A4 paper.

Chinese text needs a CJK font: the setup installs Debian's fonts-noto-cjk, which fontconfig finds
as "Noto Sans CJK SC"; WeasyPrint itself needs pango (libpango-1.0-0, libpangoft2-1.0-0).
"""

from django.template.loader import render_to_string

from .document import ReportDocument


def render_pdf(doc: ReportDocument) -> bytes:
    # Imported here: WeasyPrint loads pango when imported, which only this download needs.
    from weasyprint import HTML

    html = render_to_string("reports/periodic/report_pdf.html", {"doc": doc, "report": doc.report})
    return HTML(string=html, base_url=".").write_pdf()
