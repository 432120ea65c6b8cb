"""ctwatch: watch the Web PKI through Certificate Transparency and hold CAs to BR revocation deadlines.

This package is the domain library. It never imports Airflow: DAGs and plugins call into it.
"""

__version__ = "0.1.0"
