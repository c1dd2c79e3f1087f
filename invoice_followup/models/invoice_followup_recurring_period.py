# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import models
from odoo.tools import format_date


class InvoiceFollowupRecurring(models.Model):
    """The periods of a schedule: computed from its start date, never from the previous period."""
    _inherit = 'invoice.followup.recurring'

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: periods
    # -------------------------------------------------------------------------

    def _interval(self, count):
        """``count`` intervals as a relativedelta (the anchor day is kept: 31 → Feb 28/29 → Mar 31)."""
        self.ensure_one()
        number = self.interval_number * count
        return {
            'day': relativedelta(days=number),
            'week': relativedelta(weeks=number),
            'month': relativedelta(months=number),
            'year': relativedelta(years=number),
        }[self.interval_unit]

    def _period(self, index):
        """(first day, last day) of the period number ``index``, always computed from the start date, never from
        the previous period (that would drift: 31 → 28 → 28)."""
        self.ensure_one()
        start = self.date_start + self._interval(index)
        return start, self.date_start + self._interval(index + 1) - relativedelta(days=1)

    def _billing_date(self, index):
        self.ensure_one()
        start, end = self._period(index)
        return start if self.billing_timing == 'advance' else end + relativedelta(days=1)

    def _is_finished(self, index=None, count=None):
        """Whether the period ``index`` (by default the next one) is past the end date or the number of invoices."""
        self.ensure_one()
        index = self.period_index if index is None else index
        count = self.invoice_count if count is None else count
        if self.max_invoices and count >= self.max_invoices:
            return True
        return bool(self.date_end and self._period(index)[0] > self.date_end)

    def _next_billing_dates(self, limit):
        self.ensure_one()
        if self.state == 'done':
            return []
        dates = []
        index, count = self.period_index, self.invoice_count
        while len(dates) < limit and not self._is_finished(index, count):
            dates.append(self._billing_date(index))
            index += 1
            count += 1
        return dates

    def _period_label(self, start, end):
        """"November 2026" for a calendar month, "2026" for a calendar year, else the range of dates."""
        self.ensure_one()
        lang = self.partner_id.lang or self.env.lang
        if start.day == 1 and end == start + relativedelta(months=1, days=-1):
            return format_date(self.env, start, lang_code=lang, date_format='MMMM y')
        if (start.month, start.day) == (1, 1) and end == start + relativedelta(years=1, days=-1):
            return str(start.year)
        if start == end:
            return format_date(self.env, start, lang_code=lang)
        return self.env._("%(start)s to %(end)s", start=format_date(self.env, start, lang_code=lang),
                          end=format_date(self.env, end, lang_code=lang))

    def _frequency_label(self):
        """"Monthly", "Every 3 months"..."""
        self.ensure_one()
        if self.interval_number == 1:
            labels = {'day': self.env._("Daily"), 'week': self.env._("Weekly"), 'month': self.env._("Monthly"),
                      'year': self.env._("Yearly")}
            return labels.get(self.interval_unit, '')
        labels = {
            'day': self.env._("Every %(number)s days", number=self.interval_number),
            'week': self.env._("Every %(number)s weeks", number=self.interval_number),
            'month': self.env._("Every %(number)s months", number=self.interval_number),
            'year': self.env._("Every %(number)s years", number=self.interval_number),
        }
        return labels.get(self.interval_unit, '')

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: periods before the schedule was started
    # -------------------------------------------------------------------------

    def _periods_before(self, day):
        """Numbers of the periods still to invoice whose billing date is before ``day``."""
        self.ensure_one()
        if not day or not self.date_start or self.interval_number <= 0:
            return []
        indexes = []
        index, count = self.period_index, self.invoice_count
        while not self._is_finished(index, count) and self._billing_date(index) < day:
            indexes.append(index)
            index += 1
            count += 1
        return indexes

    def _confirmation_day(self):
        """Periods billed before this day wait for a person: the day the schedule was started, or today for a
        schedule about to start."""
        self.ensure_one()
        if self.state != 'draft' and self.date_started:
            return self.date_started
        return self.company_id._followup_today()

    def _awaits_confirmation(self, index):
        """Whether the period ``index`` was billed before the schedule was started, and nobody confirmed it."""
        self.ensure_one()
        return bool(self.date_started) and not self.past_periods_confirmed \
            and self._billing_date(index) < self.date_started

    def _open_start_wizard(self):
        self.ensure_one()
        wizard = self.env['invoice.followup.recurring.start'].create({
            'recurring_id': self.id, 'date_confirm': self._confirmation_day()})
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Earlier Periods"),
            'res_model': wizard._name,
            'res_id': wizard.id,
            'view_mode': 'form',
            'target': 'new',
        }

    def _start(self, invoice_past=False, day=None):
        """Run the schedules. The periods billed before the day they were started (``day``, by default today
        or the day they were started) are invoiced, one invoice each, only with ``invoice_past`` (a person
        confirmed them); otherwise the schedule moves past them."""
        for schedule in self:
            started = day or schedule._confirmation_day()
            past = schedule._periods_before(started)
            vals = {'state': 'running', 'date_started': started}
            body = None
            if past and invoice_past:
                vals['past_periods_confirmed'] = True
                body = self.env._(
                    "%(user)s confirmed the %(count)s period(s) before %(date)s: they are invoiced on the next run.",
                    user=self.env.user.name, count=len(past), date=format_date(self.env, started))
            elif past:
                vals['period_index'] = past[-1] + 1
                body = self.env._(
                    "%(count)s period(s) before %(date)s are not invoiced: %(user)s started from the next period.",
                    user=self.env.user.name, count=len(past), date=format_date(self.env, started))
            schedule.write(vals)
            if body:
                schedule.message_post(body=body)
                schedule._confirmation_activities().action_feedback(feedback=body)
        if invoice_past:
            self.env.ref('invoice_followup.ir_cron_generate_recurring')._trigger()

    def _confirmation_activities(self):
        return self._todos(self.env._("Confirm the earlier periods"))

    def _ask_confirmation(self):
        """The next period is billed before the day the schedule was started: a person decides, once asked."""
        self.ensure_one()
        if self._confirmation_activities():
            return
        self.activity_schedule(
            'mail.mail_activity_data_todo',
            summary=self.env._("Confirm the earlier periods"),
            note=self.env._(
                "%(count)s period(s) of this schedule are billed before %(date)s, the day it was started, and are "
                "not invoiced without your confirmation: press Review Earlier Periods.",
                count=self.past_period_count, date=format_date(self.env, self.date_started)),
            user_id=self._responsible().id,
        )
