# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.fields import Domain

from .account_move_followup_answer import PAID_STATES

REMINDABLE_PAYMENT_STATES = ('not_paid', 'partial')


class InvoiceFollowupScheduleMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: which policy an invoice follows and its
    follow-up status, the installment cycle and the steps still to come, and what a reminder asks for. Which step
    goes out on a day is the planner's answer (``invoice.followup.planner``). ``self`` is always an invoice."""

    _name = 'invoice.followup.schedule.mixin'
    _description = "Invoice: Reminder Schedule"

    # -------------------------------------------------------------------------
    # POLICY, STATUS AND CYCLE
    # -------------------------------------------------------------------------

    def _followup_default_policy(self):
        self.ensure_one()
        if self.move_type != 'out_invoice':
            return self.env['invoice.followup.policy']
        partner = self.commercial_partner_id.with_company(self.company_id)
        # The customer's own policy, else the one of its payment risk band (res_company_credit.py), else the default.
        return (partner.followup_policy_id or self.company_id._followup_risk_policy(partner)
                or self.company_id.followup_policy_id)

    @api.model
    def _followup_propagate_policy(self, domain):
        """A customer's or company's policy changed: open invoices that follow it (no override) follow suit."""
        moves = self.sudo().search(
            Domain(domain) & Domain('move_type', '=', 'out_invoice') & Domain('followup_policy_manual', '=', False)
            & Domain('state', 'in', ('draft', 'posted')) & Domain('payment_state', 'in', ('not_paid', 'partial')))
        for policy, group in moves.grouped(lambda move: move._followup_default_policy()).items():
            group.filtered(lambda move, policy=policy: move.followup_policy_id != policy).with_context(
                invoice_followup_propagate=True).followup_policy_id = policy

    def _followup_min_amount(self):
        self.ensure_one()
        return self.followup_policy_id.min_amount or self.company_id.followup_min_amount

    def _followup_state_now(self):
        """The follow-up status the invoice has, from its accounting state and manual controls."""
        self.ensure_one()
        if self.move_type != 'out_invoice' or self.state != 'posted' or not self.followup_policy_id:
            return 'none'
        if self.payment_state in PAID_STATES or self.currency_id.is_zero(self.amount_residual):
            return 'done'
        if self.payment_state not in REMINDABLE_PAYMENT_STATES + ('blocked',):
            return 'none'
        if abs(self.amount_residual_signed) <= self._followup_min_amount():
            return 'done'
        if self.followup_error:
            return 'exception'
        if self._followup_pausing_cases():
            return 'paused'
        if (self.followup_paused_until or self.payment_state == 'blocked' or self.no_followup
                or self.commercial_partner_id.followup_excluded):
            return 'paused'
        return 'active'

    def _followup_open_term_lines(self):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.display_type == 'payment_term')

    def _followup_cycle(self):
        """Due date of the earliest installment still open, and whether it is the first installment."""
        term_lines = self._followup_open_term_lines()
        open_dates = sorted(line.date_maturity or line.date for line in term_lines if not line.reconciled)
        if not open_dates:
            return False, False
        all_dates = sorted(line.date_maturity or line.date for line in term_lines)
        return open_dates[0], open_dates[0] == all_dates[0]

    def _followup_pending_steps(self):
        """Steps of the current installment cycle that are still to come, in order.

        :return: (cycle date, [(step, date it is due)]) where the date is already moved to a working day.
                 Steps placed before the last step done in this cycle are dropped, so that adding a step
                 to a policy never sends an earlier tone after a later one.
        """
        self.ensure_one()
        cycle_date, first_cycle = self._followup_cycle()
        if not cycle_date:
            return False, []
        done_steps = self.followup_log_ids.filtered(
            lambda log: log.state not in ('cancel', 'failed') and log.cycle_key == cycle_date).step_id
        targets = []
        last_done = False
        for step in self.followup_policy_id.step_ids:
            if step.date_reference == 'invoice' and not first_cycle:
                continue
            target = step._target_date(self.invoice_date, cycle_date)
            if not target:
                continue
            if step in done_steps:
                last_done = max(last_done, target) if last_done else target
            else:
                targets.append((step, target))
        shifted = self.company_id._followup_shift_to_working_day(target for _step, target in targets)
        pending = sorted(
            ((step, shifted[target]) for step, target in targets if not last_done or target > last_done),
            key=lambda item: (item[1], item[0].sequence, item[0].id),
        )
        return cycle_date, pending

    def _followup_amount_values(self, today=None):
        """What the reminder asks for: the overdue installments, else the next one, else the residual."""
        self.ensure_one()
        currency = self.currency_id
        values = {
            'amount': self.amount_residual, 'due_date': self.invoice_date_due, 'days_overdue': 0,
            'is_installment': False, 'amount_company': 0.0, 'amount_words': '',
        }
        if not currency or not self.company_id:
            return values  # a form still being filled in: nothing to ask for yet
        today = today or self.company_id._followup_today()
        open_lines = self._followup_open_term_lines().filtered(lambda line: not line.reconciled)
        if self.state == 'posted' and len(self._followup_open_term_lines()) > 1 and open_lines:
            sign = -self.direction_sign
            overdue = open_lines.filtered(lambda line: (line.date_maturity or line.date) <= today)
            asked = overdue or open_lines.sorted(lambda line: line.date_maturity or line.date)[:1]
            values.update(
                amount=sum(sign * line.amount_residual_currency for line in asked),
                due_date=min(line.date_maturity or line.date for line in asked),
                is_installment=not currency.is_zero(self.amount_residual - sum(
                    sign * line.amount_residual_currency for line in asked)),
            )
        elif open_lines:
            values['due_date'] = min(line.date_maturity or line.date for line in open_lines)
        if values['due_date']:
            values['days_overdue'] = max((today - values['due_date']).days, 0)
        company = self.company_id
        values['amount_company'] = values['amount']
        if currency != company.currency_id:
            values['amount_company'] = currency._convert(values['amount'], company.currency_id, company, today)
        values['amount_words'] = currency.with_context(lang=self.partner_id.lang or self.env.lang).amount_to_text(
            values['amount'])
        return values

    def _followup_payment_link(self, amount):
        """Account_payment's one-click portal payment link for this amount (empty when nothing is due)."""
        self.ensure_one()
        if self.currency_id.compare_amounts(amount, 0) <= 0:
            return False
        wizard = self.env['payment.link.wizard'].sudo().new({
            'res_model': self._name,
            'res_id': self.id,
            'amount': amount,
            'amount_max': self.amount_residual,
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.id,
        })
        # account_payment's wizard joins the base URL and the portal URL (which starts with "/") with another "/".
        base_url = self.get_base_url().rstrip('/')
        link = wizard.link
        if link.startswith(f'{base_url}//'):
            link = base_url + link[len(base_url) + 1:]
        return link
