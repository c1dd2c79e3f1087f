# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import format_amount, format_date, format_datetime

from ..tools import demo_history
from .invoice_followup_kpi import MINUTES_PER_REMINDER
from .invoice_followup_report import AGING_BUCKETS

PERIOD_METRICS = (
    'dso', 'dso_countback', 'cei', 'on_time_rate', 'avg_days_to_pay', 'avg_days_late', 'reminders_per_paid',
    'no_reminder_rate', 'reminder_conversion_rate', 'credit_sales', 'receivables', 'amount_overdue', 'open_cases',
    'auto_reminders', 'manual_reminders', 'auto_reminder_rate', 'hours_saved', 'reminder_opened_rate',
    'reminder_clicked_rate',
)
PERIOD_DAYS = {'last_30': 30, 'last_90': 90, 'last_365': 365}


class InvoiceFollowupDashboard(models.TransientModel):
    """The collections dashboard: the key figures of a period (``invoice.followup.kpi``) as cards next to those
    of the period before, each card opening the records behind its figure, and the charts of the collections.
    """

    _name = 'invoice.followup.dashboard'
    _inherit = ['invoice.followup.kpi']
    _description = "Collections Dashboard"
    _check_company_auto = True

    company_id = fields.Many2one(
        'res.company', required=True, default=lambda self: self.env.company,
        domain=lambda self: self._domain_company_id())
    currency_id = fields.Many2one(related='company_id.currency_id')
    period = fields.Selection(
        [('last_30', "Last 30 Days"), ('last_90', "Last 90 Days"), ('last_365', "Last 12 Months"),
         ('custom', "Custom")],
        default='last_90', required=True)
    date_from = fields.Date(string="From", required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(string="To", required=True, default=lambda self: self._default_date_to())
    reminder_days = fields.Integer(
        string="Paid Within (Days)", default=7, required=True,
        help="A reminder converted when the invoice was paid within this many days after it.")
    minutes_per_reminder = fields.Integer(
        string="Minutes per Reminder by Hand", default=MINUTES_PER_REMINDER, required=True,
        help="The assumption behind the hours saved: how long a person takes to remind a customer by hand (find "
        "the invoice, write the e-mail, attach the PDF, send it, note it).")
    prev_date_from = fields.Date(string="Previous Period From", compute='_compute_metrics')
    prev_date_to = fields.Date(string="Previous Period To", compute='_compute_metrics')

    receivables = fields.Monetary(string="Receivables at End", compute='_compute_metrics')
    credit_sales = fields.Monetary(compute='_compute_metrics')
    dso = fields.Float(string="DSO (Simple)", compute='_compute_metrics')
    dso_countback = fields.Float(string="DSO (Countback)", compute='_compute_metrics')
    cei = fields.Float(string="Collection Effectiveness Index (%)", compute='_compute_metrics')
    on_time_rate = fields.Float(string="Paid on Time (%)", compute='_compute_metrics')
    avg_days_to_pay = fields.Float(string="Average Days to Pay", compute='_compute_metrics')
    avg_days_late = fields.Float(string="Average Days Late", compute='_compute_metrics')
    reminders_per_paid = fields.Float(
        string="Reminders per Paid Invoice", compute='_compute_metrics')
    no_reminder_rate = fields.Float(
        string="Paid Without a Reminder (%)", compute='_compute_metrics')
    reminder_conversion_rate = fields.Float(
        string="Paid Soon After a Reminder (%)", compute='_compute_metrics')
    amount_overdue = fields.Monetary(string="Amount Overdue at End", compute='_compute_metrics')
    open_cases = fields.Integer(string="Open Cases at End", compute='_compute_metrics')
    auto_reminders = fields.Integer(string="Reminders Sent Automatically", compute='_compute_metrics')
    manual_reminders = fields.Integer(string="Reminders Sent by Hand", compute='_compute_metrics')
    auto_reminder_rate = fields.Float(string="Sent Automatically (%)", compute='_compute_metrics')
    hours_saved = fields.Float(string="Hours Saved (Estimate)", compute='_compute_metrics')

    reminder_opened_rate = fields.Float(string="Reminders Opened (%)", compute='_compute_metrics')
    reminder_clicked_rate = fields.Float(string="Reminders Clicked (%)", compute='_compute_metrics')

    prev_receivables = fields.Monetary(string="Previous Receivables at End", compute='_compute_metrics')
    prev_credit_sales = fields.Monetary(string="Previous Credit Sales", compute='_compute_metrics')
    prev_dso = fields.Float(string="Previous DSO (Simple)", compute='_compute_metrics')
    prev_dso_countback = fields.Float(
        string="Previous DSO (Countback)", compute='_compute_metrics')
    prev_cei = fields.Float(string="Previous CEI (%)", compute='_compute_metrics')
    prev_on_time_rate = fields.Float(string="Previous Paid on Time (%)", compute='_compute_metrics')
    prev_avg_days_to_pay = fields.Float(
        string="Previous Average Days to Pay", compute='_compute_metrics')
    prev_avg_days_late = fields.Float(
        string="Previous Average Days Late", compute='_compute_metrics')
    prev_reminders_per_paid = fields.Float(
        string="Previous Reminders per Paid Invoice", compute='_compute_metrics')
    prev_no_reminder_rate = fields.Float(
        string="Previous Paid Without a Reminder (%)", compute='_compute_metrics')
    prev_reminder_conversion_rate = fields.Float(
        string="Previous Paid Soon After a Reminder (%)", compute='_compute_metrics')
    prev_amount_overdue = fields.Monetary(string="Previous Amount Overdue", compute='_compute_metrics')
    prev_open_cases = fields.Integer(string="Previous Open Cases", compute='_compute_metrics')
    prev_auto_reminders = fields.Integer(
        string="Previous Reminders Sent Automatically", compute='_compute_metrics')
    prev_manual_reminders = fields.Integer(string="Previous Reminders Sent by Hand", compute='_compute_metrics')
    prev_auto_reminder_rate = fields.Float(string="Previous Sent Automatically (%)", compute='_compute_metrics')
    prev_hours_saved = fields.Float(string="Previous Hours Saved", compute='_compute_metrics')
    prev_reminder_opened_rate = fields.Float(string="Previous Reminders Opened (%)", compute='_compute_metrics')
    prev_reminder_clicked_rate = fields.Float(string="Previous Reminders Clicked (%)", compute='_compute_metrics')

    dso_trend_html = fields.Html(
        string="DSO by Month", compute='_compute_dso_trend', sanitize=False, export_string_translation=False)
    aging_current = fields.Monetary(string="Not Due", compute='_compute_aging')
    aging_1_30 = fields.Monetary(string="1-30 Days", compute='_compute_aging')
    aging_31_60 = fields.Monetary(string="31-60 Days", compute='_compute_aging')
    aging_61_90 = fields.Monetary(string="61-90 Days", compute='_compute_aging')
    aging_90_plus = fields.Monetary(string="Over 90 Days", compute='_compute_aging')

    tracking_html = fields.Html(
        string="Opens and Clicks by Step and Template", compute='_compute_tracking', sanitize=False,
        export_string_translation=False)
    opened_unpaid_html = fields.Html(
        string="Opened, Not Paid", compute='_compute_tracking', sanitize=False, export_string_translation=False)
    opened_unpaid_count = fields.Integer(string="Customers Who Opened and Did Not Pay", compute='_compute_tracking')

    promise_kept_rate = fields.Float(string="Promises Kept (%)", compute='_compute_case_metrics')
    dispute_opened_count = fields.Integer(string="Disputes Opened", compute='_compute_case_metrics')
    dispute_resolved_count = fields.Integer(string="Disputes Resolved", compute='_compute_case_metrics')
    dispute_avg_days = fields.Float(
        string="Days to Resolve a Dispute", compute='_compute_case_metrics')
    open_case_count = fields.Integer(string="Open Cases", compute='_compute_case_metrics')
    open_case_avg_age = fields.Float(
        string="Average Age of Open Cases (Days)", compute='_compute_case_metrics')

    def _domain_company_id(self):
        return [('id', 'in', self.env.companies.ids)]

    def _default_date_to(self):
        return fields.Date.context_today(self)

    def _default_date_from(self):
        return self._default_date_to() - timedelta(days=PERIOD_DAYS['last_90'] - 1)

    @api.constrains('date_from', 'date_to', 'reminder_days', 'minutes_per_reminder')
    def _check_period(self):
        for dashboard in self:
            if dashboard.date_from > dashboard.date_to:
                raise ValidationError(self.env._(
                    "The period must start before it ends (from %(start)s to %(end)s).",
                    start=dashboard.date_from, end=dashboard.date_to))
            if dashboard.reminder_days < 0:
                raise ValidationError(self.env._("The number of days after a reminder cannot be negative."))
            if dashboard.minutes_per_reminder < 0:
                raise ValidationError(self.env._("The minutes a reminder by hand takes cannot be negative."))

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends('company_id')
    def _compute_display_name(self):
        for dashboard in self:
            dashboard.display_name = self.env._("Collections Dashboard")

    @api.depends('company_id', 'date_from', 'date_to', 'reminder_days', 'minutes_per_reminder')
    def _compute_metrics(self):
        for dashboard in self:
            if not (dashboard.company_id and dashboard.date_from and dashboard.date_to) or (
                    dashboard.date_from > dashboard.date_to):
                for name in PERIOD_METRICS:
                    dashboard[name] = dashboard[f'prev_{name}'] = 0.0
                dashboard.prev_date_from = dashboard.prev_date_to = False
                continue
            prev_from, prev_to = dashboard._previous_period()
            dashboard.prev_date_from, dashboard.prev_date_to = prev_from, prev_to
            for prefix, start, end in (('', dashboard.date_from, dashboard.date_to), ('prev_', prev_from, prev_to)):
                values = self._period_metrics(
                    dashboard.company_id, start, end, dashboard.reminder_days, dashboard.minutes_per_reminder)
                for name in PERIOD_METRICS:
                    dashboard[f'{prefix}{name}'] = values[name]

    @api.depends('company_id', 'date_to')
    def _compute_dso_trend(self):
        for dashboard in self:
            if not (dashboard.company_id and dashboard.date_to):
                dashboard.dso_trend_html = False
                continue
            rows = Markup().join(
                Markup('<tr><td>%s</td><td class="text-end">%s</td></tr>') % (
                    format_date(self.env, start, date_format='MMMM y'), f"{dso:.1f}")
                for start, dso in self._monthly_dso(dashboard.company_id, dashboard.date_to))
            dashboard.dso_trend_html = Markup(
                '<table class="table table-sm o_invoice_followup_dso_trend"><thead><tr><th>%s</th>'
                '<th class="text-end">%s</th></tr></thead><tbody>%s</tbody></table>') % (
                self.env._("Month"), self.env._("DSO (days)"), rows)

    @api.depends('company_id')
    def _compute_aging(self):
        for dashboard in self:
            aging = self._aging(dashboard.company_id) if dashboard.company_id else {}
            for bucket, _label in AGING_BUCKETS:
                dashboard[f'aging_{bucket}'] = aging.get(bucket, 0.0)

    @api.depends('company_id', 'date_from', 'date_to', 'reminder_days')
    def _compute_tracking(self):
        for dashboard in self:
            if not (dashboard.company_id and dashboard.date_from and dashboard.date_to):
                dashboard.tracking_html = dashboard.opened_unpaid_html = False
                dashboard.opened_unpaid_count = 0
                continue
            dashboard.tracking_html = dashboard._tracking_table('step_id', self.env._("Step")) + (
                dashboard._tracking_table('template_id', self.env._("Template")))
            customers = self._opened_not_paid(dashboard.company_id)
            dashboard.opened_unpaid_count = len(customers)
            dashboard.opened_unpaid_html = dashboard._opened_unpaid_table(customers)

    @api.depends('company_id', 'date_from', 'date_to')
    def _compute_case_metrics(self):
        for dashboard in self:
            stats = {}
            if dashboard.company_id and dashboard.date_from and dashboard.date_to:
                stats = self._case_stats(dashboard.company_id, dashboard.date_from, dashboard.date_to)
            dashboard.promise_kept_rate = stats.get('promise_kept_rate', 0.0)
            dashboard.dispute_opened_count = stats.get('dispute_opened', 0)
            dashboard.dispute_resolved_count = stats.get('dispute_resolved', 0)
            dashboard.dispute_avg_days = stats.get('dispute_avg_days', 0.0)
            dashboard.open_case_count = stats.get('open_count', 0)
            dashboard.open_case_avg_age = stats.get('open_avg_age', 0.0)

    @api.onchange('period')
    def _onchange_period(self):
        if days := PERIOD_DAYS.get(self.period):
            self.date_to = fields.Date.context_today(self)
            self.date_from = self.date_to - timedelta(days=days - 1)

    # -------------------------------------------------------------------------
    # ACTIONS: every figure opens the records behind it
    # -------------------------------------------------------------------------

    def action_open_analysis(self):
        """Drill down: the collections analysis of the invoices of the period."""
        self.ensure_one()
        return self._report_action(self.env._("Invoices of the Period"), self._period_invoices())

    def action_open_open_invoices(self):
        self.ensure_one()
        return self._report_action(
            self.env._("Open Invoices by Age"),
            Domain([('company_id', '=', self.company_id.id), ('is_paid', '=', False)]), group_by='aging_bucket')

    def action_open_dso(self):
        """DSO: the invoices still owed at the end of the period (the receivables the DSO counts back)."""
        self.ensure_one()
        return self._report_action(self.env._("Invoices Owed at the End of the Period"), self._owed_at_end())

    def action_open_cei(self):
        self.ensure_one()
        return self.action_open_analysis()

    def action_open_on_time(self):
        self.ensure_one()
        return self._report_action(
            self.env._("Invoices of the Period: Paid on Time or Not"),
            self._period_invoices() & Domain('is_due', '=', True), group_by='is_paid_on_time')

    def action_open_days_late(self):
        self.ensure_one()
        return self._report_action(
            self.env._("Invoices of the Period Paid or Open Late"),
            self._period_invoices() & Domain('days_late', '>', 0), group_by='partner_id')

    def action_open_overdue(self):
        self.ensure_one()
        return self._report_action(
            self.env._("Invoices Overdue at the End of the Period"),
            self._owed_at_end() & Domain('due_date', '<', self.date_to), group_by='partner_id')

    def action_open_open_cases(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_case_action')
        action.update(
            name=self.env._("Cases Open at the End of the Period"),
            domain=list(self._open_case_domain(self.company_id, self.date_to)),
            context={'group_by': 'reason'}, views=[(False, 'list'), (False, 'kanban'), (False, 'form')])
        return action

    def action_open_reminders(self):
        """The reminders of the period, by who sent them (OdooBot: the scheduled job)."""
        self.ensure_one()
        return self._reminder_action(self.env._("Reminders of the Period by Sender"), None, group_by='create_uid')

    def action_open_auto_reminders(self):
        self.ensure_one()
        return self._reminder_action(self.env._("Reminders Sent Automatically"), 'auto')

    def action_open_manual_reminders(self):
        self.ensure_one()
        return self._reminder_action(self.env._("Reminders Sent by Hand"), 'manual')

    def action_open_reminder_analysis(self):
        """Opens and clicks: the reminders e-mailed in the period, by step."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id(
            'invoice_followup.invoice_followup_reminder_report_action')
        action.update(
            name=self.env._("Reminders of the Period: Opens and Clicks"),
            domain=[('company_id', '=', self.company_id.id), ('date', '>=', self.date_from),
                    ('date', '<=', self.date_to)],
            context={'group_by': 'step_id'})
        return action

    def action_open_opened_unpaid(self):
        self.ensure_one()
        return self._report_action(
            self.env._("Opened, Not Paid"), self._opened_not_paid_domain(self.company_id), group_by='partner_id')

    def action_open_dso_chart(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_dso_report_action')
        action['domain'] = [('company_id', '=', self.company_id.id)]
        return action

    def action_open_aging_chart(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_aging_action')
        action['domain'] = [('company_id', '=', self.company_id.id), ('is_paid', '=', False)]
        return action

    def action_open_step_chart(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id(
            'invoice_followup.invoice_followup_paid_after_step_action')
        action['domain'] = list(self._period_invoices() & Domain([('is_paid', '=', True), ('reminder_count', '>', 0)]))
        return action

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    def _period_invoices(self):
        return self._report_domain(self.company_id, self.date_from, self.date_to)

    def _owed_at_end(self):
        """The invoices of the analysis issued by the end of the period and not fully paid by then."""
        return Domain([('company_id', '=', self.company_id.id), ('invoice_date', '<=', self.date_to)]) & (
            Domain('paid_date', '=', False) | Domain('paid_date', '>', self.date_to))

    def _report_action(self, name, domain, group_by=None):
        """The collections analysis as a list of the invoices of ``domain`` (no default filter of its own)."""
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_report_action')
        action.update(
            name=name, domain=list(domain), context={'group_by': group_by} if group_by else {},
            views=[(False, 'list'), (False, 'pivot'), (False, 'graph')])
        return action

    def _reminder_action(self, name, origin, group_by=None):
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_log_action')
        action.update(
            name=name, domain=list(self._reminder_domain(self.company_id, self.date_from, self.date_to, origin)),
            context={'group_by': group_by} if group_by else {})
        return action

    @api.model
    def _demo_load_history(self):
        """Demo data: a year of invoices, payments, reminders and cases for a dozen customers of the main company
        (tools/demo_history.py)."""
        company = self.env.ref('base.main_company')
        product = self.env.ref('invoice_followup.product_consulting_demo')
        return bool(demo_history.load_history(self.env(context={}), company, product))

    def _tracking_table(self, groupby, label):
        """The opens and clicks of the period's reminders per ``groupby`` (a step, a template), as an HTML table."""
        self.ensure_one()
        rows = Markup().join(
            Markup('<tr><td>%s</td><td class="text-end">%s</td><td class="text-end">%s</td>'
                   '<td class="text-end">%s</td><td class="text-end">%s</td></tr>') % (
                row['key'].display_name if row['key'] else self.env._("None"), row['sent'],
                f"{row['opened_rate']:.1f} %", f"{row['clicked_rate']:.1f} %", f"{row['paid_rate']:.1f} %")
            for row in self._tracking_stats(
                self.company_id, self.date_from, self.date_to, self.reminder_days, [groupby]))
        return Markup(
            '<table class="table table-sm o_invoice_followup_tracking" data-group="%s"><thead><tr><th>%s</th>'
            '<th class="text-end">%s</th><th class="text-end">%s</th><th class="text-end">%s</th>'
            '<th class="text-end">%s</th></tr></thead><tbody>%s</tbody></table>') % (
            groupby, label, self.env._("Sent"), self.env._("Opened"), self.env._("Clicked"),
            self.env._("Paid within %(days)s Days", days=self.reminder_days), rows)

    def _opened_unpaid_table(self, customers):
        """The customers who opened a reminder and have not paid, as an HTML table."""
        self.ensure_one()
        rows = Markup().join(
            Markup('<tr><td>%s</td><td class="text-end">%s</td><td class="text-end">%s</td><td>%s</td></tr>') % (
                partner.display_name, count, format_amount(self.env, amount or 0.0, self.currency_id),
                format_datetime(self.env, last_opened) if last_opened else '')
            for partner, count, amount, last_opened in customers)
        return Markup(
            '<table class="table table-sm o_invoice_followup_opened_unpaid"><thead><tr><th>%s</th>'
            '<th class="text-end">%s</th><th class="text-end">%s</th><th>%s</th></tr></thead><tbody>%s</tbody>'
            '</table>') % (
            self.env._("Customer"), self.env._("Open Invoices"), self.env._("Amount Due"),
            self.env._("Last Opened"), rows)

    def _previous_period(self):
        """The period of the same length that ends the day before this one starts."""
        self.ensure_one()
        prev_to = self.date_from - timedelta(days=1)
        return prev_to - (self.date_to - self.date_from), prev_to
