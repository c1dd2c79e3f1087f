from . import invoice_followup_report
from . import invoice_followup_reminder_report
from . import invoice_followup_dso_report
from . import invoice_followup_kpi
from . import invoice_followup_dashboard
