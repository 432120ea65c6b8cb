"""Reports for root-program staff and CAs (issue 7, point 6), from the stored compliance evaluation.

Per incident: the CCADB Incident Reporting Guidelines v3.2 appendix (`appendix`), a Markdown
summary ready to paste into a Bugzilla comment (`markdown`), the month-by-month progress table
(`progress`) and plots (`plots`); `jobs.write_reports` writes them all for one as-of.
Reads only: the evaluator (`ctwatch.evaluate`) decides every verdict shown here.
"""

from __future__ import annotations

from ctwatch.report.jobs import ReportSummary, folder_name, render_reports, write_reports

__all__ = ["ReportSummary", "folder_name", "render_reports", "write_reports"]
