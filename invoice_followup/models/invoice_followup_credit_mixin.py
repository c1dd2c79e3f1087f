# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import FOLLOWUP_READERS

# Who may confirm an order or post an invoice of a customer on credit hold.
CREDIT_HOLD_OVERRIDERS = 'account.group_account_manager'


class InvoiceFollowupCreditMixin(models.AbstractModel):
    """The overdue banner and the credit hold of a customer, on the records about that customer (the customer, its
    sale orders, its invoices). Computed from live data each time: nothing to reset when the customer pays.

    A record gives its customer, company and own amount (``_followup_credit_target``)."""

    _name = 'invoice.followup.credit.mixin'
    _description = "Customer Overdue Banner and Credit Hold"

    followup_credit_currency_id = fields.Many2one(
        'res.currency', compute='_compute_followup_credit', groups=FOLLOWUP_READERS,
        export_string_translation=False)
    followup_overdue_amount = fields.Monetary(
        string="Amount Overdue", compute='_compute_followup_credit', currency_field='followup_credit_currency_id',
        groups=FOLLOWUP_READERS, help="What the customer owes on invoices past their due date.")
    followup_oldest_days_late = fields.Integer(
        string="Oldest Days Late", compute='_compute_followup_credit', groups=FOLLOWUP_READERS,
        help="Days since the due date of the customer's oldest unpaid installment.")
    followup_open_case_count = fields.Integer(
        string="Open Collection Cases", compute='_compute_followup_credit', groups=FOLLOWUP_READERS)
    followup_credit_hold_reason = fields.Text(
        string="Credit Hold", compute='_compute_followup_credit', groups=FOLLOWUP_READERS,
        help="Why the customer is on credit hold; empty when not.")

    @api.depends_context('company')
    def _compute_followup_credit(self):
        statuses = self._followup_credit_statuses()
        for record in self:
            status = statuses[record]
            record.followup_credit_currency_id = status['currency']
            record.followup_overdue_amount = status['overdue']
            record.followup_oldest_days_late = status['days_late']
            record.followup_open_case_count = status['cases']
            record.followup_credit_hold_reason = status['hold'] or False

    def _followup_credit_target(self):
        """(commercial partner, company, amount of this record not yet in the customer's balance, in company
        currency) of this record; an empty partner: no banner, no hold."""
        raise NotImplementedError

    def _followup_credit_statuses(self):
        """Overdue amount, oldest days late, open cases and hold reason of each record's customer: a few grouped
        reads per company, as superuser (a salesperson confirming an order does not read invoices).

        :return: {record: {'currency', 'overdue', 'days_late', 'cases', 'hold'}}
        """
        targets = {}
        for record in self:
            partner, company, amount = record._followup_credit_target()
            # a form not saved yet: the customer as stored (none for a new one)
            targets[record] = (partner._origin.sudo(), company._origin or self.env.company, amount)
        Partner = self.env['res.partner'].sudo()
        statuses = {}
        for company in {company for _partner, company, _amount in targets.values()}:
            records = [record for record, target in targets.items() if target[1] == company]
            partners = Partner.union(*(targets[record][0] for record in records))
            overdue = Partner._followup_overdue_amounts(partners, company)
            cases = dict(self.env['invoice.followup.case'].sudo()._read_group(
                [('partner_id', 'in', partners.ids), ('company_id', '=', company.id), ('is_open', '=', True)],
                ['partner_id'], ['__count']))
            today = company._followup_today()
            for record in records:
                partner, _company, amount = targets[record]
                overdue_amount, oldest = overdue.get(partner, (0.0, False))
                status = {
                    'currency': company.currency_id,
                    'overdue': overdue_amount,
                    'days_late': (today - oldest).days if oldest else 0,
                    'cases': cases.get(partner, 0),
                }
                status['hold'] = company._followup_credit_hold_reason(partner, status, amount) if partner else ''
                statuses[record] = status
        return statuses

    def _followup_check_credit_hold(self, refusal):
        """Refuse what the user does to these records when a customer is on credit hold (``refusal``: e.g. "This
        order cannot be confirmed while its customer is on credit hold."), with the reasons; an accounting
        administrator may go on, and the record says so. Operations the system runs as superuser (an order
        confirmed by its online payment, demo data) are not held: the hold is on people's decisions."""
        if self.env.su:
            return
        statuses = self._followup_credit_statuses()
        held = [(record, statuses[record]['hold']) for record in self if statuses[record]['hold']]
        if not held:
            return
        if not self.env.user.has_group(CREDIT_HOLD_OVERRIDERS):
            raise UserError("\n".join([
                refusal, *dict.fromkeys(reason for _record, reason in held),
                self.env._("An accounting administrator may go ahead anyway; the hold lifts by itself once the "
                           "customer pays."),
            ]))
        for record, reason in held:
            record.message_post(body=self.env._(
                "%(user)s went ahead despite the credit hold: %(reason)s", user=self.env.user.name, reason=reason))

