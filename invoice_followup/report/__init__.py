from . import invoice_followup_report
from . import invoice_followup_dashboard
