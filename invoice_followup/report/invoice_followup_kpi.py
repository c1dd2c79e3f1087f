# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain

COUNTBACK_MAX_MONTHS = 24
# The estimate of the time saved: a reminder sent by hand takes this long (find the invoice, write the e-mail,
# attach the PDF, send it, note it). Each dashboard may change it.
MINUTES_PER_REMINDER = 5


class InvoiceFollowupKpi(models.AbstractModel):
    """The figures of the collections dashboard, each a function of a company and a date or a period, all from
    aggregates (``_read_group``) of the ledger, the collections analysis (``invoice.followup.report``), the
    reminders and the cases. The formulas are in the README; ``invoice.followup.dashboard`` shows them."""

    _name = 'invoice.followup.kpi'
    _description = "Collections Key Figures"

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
    def _owed_at(self, company, date, maturity):
        """What customers owe at the end of ``date`` on the receivable lines whose due date matches ``maturity``
        (a domain on ``date_maturity``): invoiced by then, less what was reconciled by then."""
        domain = self._receivable_domain(company) & Domain([('date', '<=', date), ('balance', '>', 0)]) & maturity
        [(debit,)] = self.env['account.move.line']._read_group(domain, [], ['balance:sum'])
        [(settled,)] = self.env['account.partial.reconcile']._read_group(
            [('debit_move_id', 'any', domain), ('max_date', '<=', date)], [], ['amount:sum'])
        return (debit or 0.0) - (settled or 0.0)

    @api.model
    def _current_receivables(self, company, date):
        """What customers owe at the end of ``date`` and is not yet due (due on ``date`` or later)."""
        return self._owed_at(company, date, Domain('date_maturity', '>=', date))

    @api.model
    def _overdue_receivables(self, company, date):
        """What customers owe at the end of ``date`` and was due before ``date``: the amount overdue."""
        return self._owed_at(company, date, Domain('date_maturity', '<', date))

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
    def _tracking_stats(self, company, date_from, date_to, days=7, groupby=()):
        """Opens and clicks of the reminders e-mailed in the period (``invoice.followup.reminder.report``), grouped by
        ``groupby`` (e.g. ``['step_id']``, ``['template_id']``, none: the totals): how many were sent, and the share
        opened, clicked, and whose invoice was paid within ``days`` days after the reminder.

        :return: [{'key': the group's value or None, 'sent', 'opened', 'clicked', 'paid', and '<each>_rate' in %}]
        """
        Report = self.env['invoice.followup.reminder.report']
        groupby = list(groupby)
        domain = Domain([('company_id', '=', company.id), ('date', '>=', date_from), ('date', '<=', date_to)])
        paid = {
            tuple(row[:-1]): row[-1] for row in Report._read_group(
                domain & Domain([('paid_date', '!=', False), ('days_to_pay', '>=', 0), ('days_to_pay', '<=', days)]),
                groupby, ['__count'])
        }
        stats = []
        for *key, sent, opened, clicked in Report._read_group(
                domain, groupby, ['__count', 'opened_count:sum', 'clicked_count:sum']):
            paid_count = paid.get(tuple(key), 0)
            stats.append({
                'key': key[0] if len(key) == 1 else (tuple(key) or None),
                'sent': sent, 'opened': opened or 0, 'clicked': clicked or 0, 'paid': paid_count,
                'opened_rate': (opened or 0) / sent * 100 if sent else 0.0,
                'clicked_rate': (clicked or 0) / sent * 100 if sent else 0.0,
                'paid_rate': paid_count / sent * 100 if sent else 0.0,
            })
        return stats

    @api.model
    def _opened_not_paid(self, company):
        """The customers of ``company`` with an invoice still open whose reminder they opened: how many such invoices,
        what is left to pay on them (company currency), and when they last opened one; most owed first.

        :return: [(partner, invoice count, amount due, last opened)]
        """
        return self.env['invoice.followup.report']._read_group(
            self._opened_not_paid_domain(company), ['partner_id'],
            ['__count', 'residual:sum', 'last_opened_date:max'], order='residual:sum desc, partner_id')

    @api.model
    def _opened_not_paid_domain(self, company):
        """The invoices of the collections analysis not paid whose reminder the customer opened."""
        return Domain([('company_id', '=', company.id), ('is_paid', '=', False), ('opened_count', '>', 0)])

    @api.model
    def _aging(self, company):
        """Open receivables of the company's invoices by age of their due date, as of today."""
        return dict(self.env['invoice.followup.report']._read_group(
            [('company_id', '=', company.id), ('is_paid', '=', False), ('aging_bucket', '!=', False)],
            ['aging_bucket'], ['residual:sum']))

    @api.model
    def _open_case_domain(self, company, date):
        """The cases of ``company`` open at the end of ``date``: opened by then, and not resolved by then."""
        end = fields.Datetime.to_datetime(date + timedelta(days=1))
        return Domain([('company_id', '=', company.id), ('create_date', '<', end)]) & (
            Domain('is_open', '=', True) | Domain('resolved_date', '>', date))

    @api.model
    def _automatic_user(self):
        """Who the reminders of the scheduled job are created by: the user of its cron (OdooBot)."""
        cron = self.env.ref('invoice_followup.ir_cron_send_reminders', raise_if_not_found=False)
        return (cron and cron.sudo().user_id) or self.env.ref('base.user_root')

    @api.model
    def _reminder_domain(self, company, date_from, date_to, origin=None):
        """The reminders e-mailed to customers in the period (not in test mode); ``origin``: ``'auto'``, those of
        the scheduled job, ``'manual'``, those a person sent (*Send Now*, *Send the Next Reminder* of a case)."""
        domain = Domain([
            ('company_id', '=', company.id), ('state', '=', 'sent'), ('is_test', '=', False),
            ('date', '>=', date_from), ('date', '<=', date_to),
        ])
        if origin:
            domain &= Domain('create_uid', '=' if origin == 'auto' else '!=', self._automatic_user().id)
        return domain

    @api.model
    def _reminder_origin(self, company, date_from, date_to):
        """How many reminders of the period the scheduled job sent, and how many people sent by hand."""
        automatic = self._automatic_user()
        counts = self.env['invoice.followup.log'].sudo()._read_group(
            self._reminder_domain(company, date_from, date_to), ['create_uid'], ['__count'])
        auto = sum(count for user, count in counts if user == automatic)
        return {'auto': auto, 'manual': sum(count for _user, count in counts) - auto}

    @api.model
    def _period_metrics(self, company, date_from, date_to, reminder_days=7,
                        minutes_per_reminder=MINUTES_PER_REMINDER):
        stats = self._payment_stats(company, date_from, date_to)
        effect = self._reminder_effect(company, date_from, date_to, reminder_days)
        reminded = sum(values['reminded'] for values in effect.values())
        converted = sum(values['paid'] for values in effect.values())
        origin = self._reminder_origin(company, date_from, date_to)
        sent = origin['auto'] + origin['manual']
        [(open_cases,)] = self.env['invoice.followup.case']._read_group(
            self._open_case_domain(company, date_to), [], ['__count'])
        [tracking] = self._tracking_stats(company, date_from, date_to, reminder_days) or [{}]
        return {
            'reminder_opened_rate': tracking.get('opened_rate', 0.0),
            'reminder_clicked_rate': tracking.get('clicked_rate', 0.0),
            'amount_overdue': self._overdue_receivables(company, date_to),
            'open_cases': open_cases,
            'auto_reminders': origin['auto'],
            'manual_reminders': origin['manual'],
            'auto_reminder_rate': origin['auto'] / sent * 100 if sent else 0.0,
            'hours_saved': origin['auto'] * minutes_per_reminder / 60,
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
