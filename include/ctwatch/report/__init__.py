"""Reports for root-program staff and CAs, from the stored compliance evaluation.

Per incident: the CCADB Incident Reporting Guidelines v3.2 appendix (`appendix`), a Markdown
summary ready to paste into a Bugzilla comment (`markdown`), the month-by-month progress table
(`progress`), a declared plan against the evidence (`plan_progress`) and plots (`plots`);
`writer.write_reports` writes them all for one as-of.
Reads only: the evaluator (`ctwatch.evaluate`) decides every verdict shown here.
"""

from __future__ import annotations

from ctwatch.report.writer import ReportSummary, folder_name, render_reports, write_reports

__all__ = ["ReportSummary", "folder_name", "render_reports", "write_reports"]
