# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import format_date

from .invoice_followup_report import AGING_BUCKETS

COUNTBACK_MAX_MONTHS = 24
PERIOD_METRICS = (
    'dso', 'dso_countback', 'cei', 'on_time_rate', 'avg_days_to_pay', 'avg_days_late', 'reminders_per_paid',
    'no_reminder_rate', 'reminder_conversion_rate', 'credit_sales', 'receivables',
)


class InvoiceFollowupDashboard(models.TransientModel):
    """The collections dashboard: key figures of a period next to those of the period before.

    Every figure comes from aggregates (``_read_group``) of the ledger, the collections analysis
    (``invoice.followup.report``) and the cases; the formulas are in the README.
    """

    _name = 'invoice.followup.dashboard'
    _description = "Collections Dashboard"
    _check_company_auto = True

    company_id = fields.Many2one(
        'res.company', required=True, default=lambda self: self.env.company,
        domain=lambda self: self._domain_company_id())
    currency_id = fields.Many2one(related='company_id.currency_id')
    date_from = fields.Date(string="From", required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(string="To", required=True, default=lambda self: self._default_date_to())
    reminder_days = fields.Integer(
        string="Paid Within (Days)", default=7, required=True,
        help="A reminder converted when the invoice was paid within this many days after it.")
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

    dso_trend_html = fields.Html(
        string="DSO by Month", compute='_compute_dso_trend', sanitize=False, export_string_translation=False)
    aging_current = fields.Monetary(string="Not Due", compute='_compute_aging')
    aging_1_30 = fields.Monetary(string="1-30 Days", compute='_compute_aging')
    aging_31_60 = fields.Monetary(string="31-60 Days", compute='_compute_aging')
    aging_61_90 = fields.Monetary(string="61-90 Days", compute='_compute_aging')
    aging_90_plus = fields.Monetary(string="Over 90 Days", compute='_compute_aging')

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
        return self._default_date_to() - timedelta(days=89)

    @api.constrains('date_from', 'date_to', 'reminder_days')
    def _check_period(self):
        for dashboard in self:
            if dashboard.date_from > dashboard.date_to:
                raise ValidationError(self.env._(
                    "The period must start before it ends (from %(start)s to %(end)s).",
                    start=dashboard.date_from, end=dashboard.date_to))
            if dashboard.reminder_days < 0:
                raise ValidationError(self.env._("The number of days after a reminder cannot be negative."))

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends('company_id', 'date_from', 'date_to', 'reminder_days')
    def _compute_metrics(self):
        for dashboard in self:
            if not (dashboard.company_id and dashboard.date_from and dashboard.date_to) or (
                    dashboard.date_from > dashboard.date_to):
                for name in PERIOD_METRICS:
                    dashboard[name] = dashboard[f'prev_{name}'] = 0.0
                dashboard.prev_date_from = dashboard.prev_date_to = False
                continue
            prev_to = dashboard.date_from - timedelta(days=1)
            prev_from = prev_to - (dashboard.date_to - dashboard.date_from)
            dashboard.prev_date_from, dashboard.prev_date_to = prev_from, prev_to
            for prefix, start, end in (('', dashboard.date_from, dashboard.date_to), ('prev_', prev_from, prev_to)):
                values = self._period_metrics(dashboard.company_id, start, end, dashboard.reminder_days)
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

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_open_analysis(self):
        """Drill down: the collections analysis of the invoices of the period."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_report_action')
        action['domain'] = [
            ('company_id', '=', self.company_id.id),
            ('invoice_date', '>=', self.date_from), ('invoice_date', '<=', self.date_to),
        ]
        return action

    def action_open_open_invoices(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_report_action')
        action['domain'] = [('company_id', '=', self.company_id.id), ('is_paid', '=', False)]
        action['context'] = {'search_default_group_by_aging': 1}
        return action

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: the figures (all from aggregates)
    # -------------------------------------------------------------------------

    @api.model
    def _receivable_domain(self, company):
        return Domain([
            ('company_id', '=', company.id),
            ('parent_state', '=', 'posted'),
            ('account_id.account_type', '=', 'asset_receivable'),
        ])

    @api.model
    def _receivables(self, company, date):
        """Balance of the receivable accounts at the end of ``date`` (company currency)."""
        [(balance,)] = self.env['account.move.line']._read_group(
            self._receivable_domain(company) & Domain('date', '<=', date), [], ['balance:sum'])
        return balance or 0.0

    @api.model
    def _current_receivables(self, company, date):
        """What customers owe at the end of ``date`` and is not yet due (due on ``date`` or later)."""
        domain = self._receivable_domain(company) & Domain([
            ('date', '<=', date), ('date_maturity', '>=', date), ('balance', '>', 0)])
        [(debit,)] = self.env['account.move.line']._read_group(domain, [], ['balance:sum'])
        [(settled,)] = self.env['account.partial.reconcile']._read_group(
            [('debit_move_id', 'any', domain), ('max_date', '<=', date)], [], ['amount:sum'])
        return (debit or 0.0) - (settled or 0.0)

    @api.model
    def _sales_domain(self, company, date_from, date_to):
        return Domain([
            ('company_id', '=', company.id),
            ('move_type', 'in', ('out_invoice', 'out_refund')),
            ('state', '=', 'posted'),
            ('date', '>=', date_from),
            ('date', '<=', date_to),
        ])

    @api.model
    def _credit_sales(self, company, date_from, date_to):
        """Invoiced on credit in the period, credit notes deducted, taxes included (company currency)."""
        [(total,)] = self.env['account.move']._read_group(
            self._sales_domain(company, date_from, date_to), [], ['amount_total_signed:sum'])
        return total or 0.0

    @api.model
    def _compute_dso(self, company, date_from, date_to):
        """Simple DSO = receivables at the end / credit sales of the period × days of the period."""
        sales = self._credit_sales(company, date_from, date_to)
        if not sales:
            return 0.0
        days = (date_to - date_from).days + 1
        return self._receivables(company, date_to) / sales * days

    @api.model
    def _monthly_dso(self, company, date_to, months=6):
        """The simple DSO of each of the ``months`` calendar months up to ``date_to`` (the last one up to that
        day), oldest first: the trend shown on the dashboard."""
        trend = []
        end = date_to
        for _month in range(months):
            start = end.replace(day=1)
            trend.append((start, self._compute_dso(company, start, end)))
            end = start - timedelta(days=1)
        return trend[::-1]

    @api.model
    def _compute_dso_countback(self, company, date):
        """Countback DSO: take the receivables at ``date`` and walk back month by month (the month of ``date``
        up to ``date``, then whole calendar months), subtracting each month's credit sales; a month whose sales
        cover what is left counts for the fraction left / sales of its days. At most 24 months."""
        remaining = self._receivables(company, date)
        first = date.replace(day=1) - relativedelta(months=COUNTBACK_MAX_MONTHS - 1)
        sales_by_month = {
            month: total for month, total in self.env['account.move']._read_group(
                self._sales_domain(company, first, date), ['date:month'], ['amount_total_signed:sum'])
        }
        dso = 0.0
        end = date
        for _month in range(COUNTBACK_MAX_MONTHS):
            if remaining <= 0:
                break
            start = end.replace(day=1)
            days = (end - start).days + 1
            sales = sales_by_month.get(start, 0.0)
            if sales >= remaining:
                dso += remaining / sales * days
                break
            dso += days
            remaining -= sales
            end = start - timedelta(days=1)
        return dso

    @api.model
    def _compute_cei(self, company, date_from, date_to):
        """CEI = (beginning receivables + credit sales − ending receivables)
        / (beginning receivables + credit sales − ending current receivables) × 100."""
        beginning = self._receivables(company, date_from - timedelta(days=1))
        sales = self._credit_sales(company, date_from, date_to)
        collectible = beginning + sales - self._current_receivables(company, date_to)
        if not collectible:
            return 0.0
        return (beginning + sales - self._receivables(company, date_to)) / collectible * 100

    @api.model
    def _report_domain(self, company, date_from, date_to):
        return Domain([
            ('company_id', '=', company.id), ('invoice_date', '>=', date_from), ('invoice_date', '<=', date_to)])

    @api.model
    def _payment_stats(self, company, date_from, date_to):
        """Payment behaviour of the invoices dated in the period (see the README for each definition)."""
        Report = self.env['invoice.followup.report']
        domain = self._report_domain(company, date_from, date_to)
        [(due_count, on_time, avg_days_to_pay)] = Report._read_group(
            domain & Domain('is_due', '=', True), [], ['__count', 'paid_on_time_count:sum', 'days_to_pay:avg'])
        [(avg_days_late,)] = Report._read_group(domain & Domain('days_late', '>', 0), [], ['days_late:avg'])
        [(paid_count, reminders)] = Report._read_group(
            domain & Domain('is_paid', '=', True), [], ['__count', 'reminder_count:sum'])
        [(no_reminder,)] = Report._read_group(
            domain & Domain('is_paid', '=', True) & Domain('reminder_count', '=', 0), [], ['__count'])
        return {
            'due_count': due_count,
            'paid_count': paid_count,
            'on_time_rate': on_time / due_count * 100 if due_count else 0.0,
            'avg_days_to_pay': avg_days_to_pay or 0.0,
            'avg_days_late': avg_days_late or 0.0,
            'reminders_per_paid': (reminders or 0) / paid_count if paid_count else 0.0,
            'no_reminder_rate': no_reminder / paid_count * 100 if paid_count else 0.0,
        }

    @api.model
    def _reminder_effect(self, company, date_from, date_to, days=7):
        """Per reminder step, for the invoices dated in the period: how many got it, and how many were paid
        within ``days`` days after it, it being the last reminder before the payment.

        :return: {step: {'reminded': int, 'paid': int, 'rate': float}}
        """
        reminded = dict(self.env['invoice.followup.log']._read_group(
            [('company_id', '=', company.id), ('state', '=', 'sent'), ('is_test', '=', False),
             ('move_id', 'any', [('invoice_date', '>=', date_from), ('invoice_date', '<=', date_to)])],
            ['step_id'], ['move_id:count_distinct']))
        paid = dict(self.env['invoice.followup.report']._read_group(
            self._report_domain(company, date_from, date_to) & Domain([
                ('is_paid', '=', True), ('last_step_id', '!=', False), ('days_after_reminder', '<=', days)]),
            ['last_step_id'], ['__count']))
        return {
            step: {'reminded': count, 'paid': paid.get(step, 0), 'rate': paid.get(step, 0) / count * 100}
            for step, count in reminded.items()
        }

    @api.model
    def _aging(self, company):
        """Open receivables of the company's invoices by age of their due date, as of today."""
        return dict(self.env['invoice.followup.report']._read_group(
            [('company_id', '=', company.id), ('is_paid', '=', False), ('aging_bucket', '!=', False)],
            ['aging_bucket'], ['residual:sum']))

    @api.model
    def _period_metrics(self, company, date_from, date_to, reminder_days=7):
        stats = self._payment_stats(company, date_from, date_to)
        effect = self._reminder_effect(company, date_from, date_to, reminder_days)
        reminded = sum(values['reminded'] for values in effect.values())
        converted = sum(values['paid'] for values in effect.values())
        return {
            'receivables': self._receivables(company, date_to),
            'credit_sales': self._credit_sales(company, date_from, date_to),
            'dso': self._compute_dso(company, date_from, date_to),
            'dso_countback': self._compute_dso_countback(company, date_to),
            'cei': self._compute_cei(company, date_from, date_to),
            'on_time_rate': stats['on_time_rate'],
            'avg_days_to_pay': stats['avg_days_to_pay'],
            'avg_days_late': stats['avg_days_late'],
            'reminders_per_paid': stats['reminders_per_paid'],
            'no_reminder_rate': stats['no_reminder_rate'],
            'reminder_conversion_rate': converted / reminded * 100 if reminded else 0.0,
        }

    @api.model
    def _case_stats(self, company, date_from, date_to):
        """Promises kept, disputes opened and resolved (and how long they took), open cases and their age."""
        Case = self.env['invoice.followup.case']
        company_domain = Domain('company_id', '=', company.id)
        in_period = Domain([('promise_date', '>=', date_from), ('promise_date', '<=', date_to)])
        [(promises,)] = Case._read_group(
            company_domain & in_period & Domain([('reason', '=', 'promise'), ('is_open', '=', False)]),
            [], ['__count'])
        [(broken,)] = Case._read_group(
            company_domain & in_period & Domain('reason', '=', 'broken_promise'), [], ['__count'])
        start = fields.Datetime.to_datetime(date_from)
        end = fields.Datetime.to_datetime(date_to + timedelta(days=1))
        [(opened,)] = Case._read_group(
            company_domain & Domain([('reason', '=', 'dispute'), ('create_date', '>=', start),
                                     ('create_date', '<', end)]), [], ['__count'])
        resolved = Case.search_fetch(
            company_domain & Domain([('reason', '=', 'dispute'), ('resolved_date', '>=', date_from),
                                     ('resolved_date', '<=', date_to)]), ['create_date', 'resolved_date'])
        open_cases = Case.search_fetch(company_domain & Domain('is_open', '=', True), ['create_date'])
        today = fields.Date.context_today(self)
        resolve_days = [(case.resolved_date - case.create_date.date()).days for case in resolved]
        ages = [(today - case.create_date.date()).days for case in open_cases]
        return {
            'promise_kept_rate': (promises - broken) / promises * 100 if promises else 0.0,
            'promises': promises,
            'broken_promises': broken,
            'dispute_opened': opened,
            'dispute_resolved': len(resolved),
            'dispute_avg_days': sum(resolve_days) / len(resolve_days) if resolve_days else 0.0,
            'open_count': len(open_cases),
            'open_avg_age': sum(ages) / len(ages) if ages else 0.0,
        }
