# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.fields import Command


class InvoiceFollowupLateFeeMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: the late fee a reminder step may charge,
    once per invoice, as a separate customer invoice linked to the original and stated in the reminder.
    ``self`` is always an invoice."""

    _name = 'invoice.followup.late.fee.mixin'
    _description = "Invoice: Late Fee"

    followup_fee_for_id = fields.Many2one(
        'account.move', string="Late Fee For", readonly=True, copy=False, index='btree_not_null',
        help="The invoice this late fee was charged for.")
    followup_fee_ids = fields.One2many(
        'account.move', 'followup_fee_for_id', string="Late Fees", readonly=True, copy=False)
    followup_late_fee_id = fields.Many2one(
        'account.move', string="Late Fee Invoice", compute='_compute_followup_late_fee_id',
        export_string_translation=False)

    # Never twice: one live late fee per invoice (a cancelled one lets a person charge it again).
    _one_late_fee = models.UniqueIndex(
        "(followup_fee_for_id) WHERE followup_fee_for_id IS NOT NULL AND state != 'cancel'",
        "A late fee was already charged for this invoice.",
    )

    @api.depends('followup_fee_ids.state')
    def _compute_followup_late_fee_id(self):
        for move in self:
            move.followup_late_fee_id = move.followup_fee_ids.filtered(lambda fee: fee.state != 'cancel')[:1]

    def _followup_late_fee_amount(self, step, day):
        """The fee ``step`` charges on this invoice on ``day``, in its currency (0: none)."""
        self.ensure_one()
        company, currency = self.company_id, self.currency_id

        def to_invoice_currency(amount):
            return company.currency_id._convert(amount, currency, company, day)

        if step.late_fee_type == 'fixed':
            fee = to_invoice_currency(step.late_fee_amount)
        elif step.late_fee_type == 'interest':
            values = self._followup_amount_values(day)
            fee = values['amount'] * step.late_fee_rate / 100 * values['days_overdue'] / 365
        else:
            return 0.0
        if step.late_fee_cap:
            fee = min(fee, to_invoice_currency(step.late_fee_cap))
        return currency.round(max(fee, 0.0))

    def _followup_charge_late_fees(self, steps, day):
        """Charge the late fee of each invoice's step, unless one was already charged: one posted customer invoice
        per invoice, created in one batch. Fee invoices are not reminded themselves.

        :param steps: {invoice: step}
        :return: the fee invoices
        """
        values = []
        for move in self:
            step = steps[move]
            amount = move._followup_late_fee_amount(step, day) if not move.followup_late_fee_id else 0.0
            if move.currency_id.is_zero(amount):
                continue
            label = self.env._("Late payment fee on invoice %(invoice)s", invoice=move.name)
            if step.late_fee_type == 'interest':
                label = self.env._("%(label)s (%(rate)s%% a year, %(days)s days late)", label=label,
                                   rate=step.late_fee_rate, days=move._followup_amount_values(day)['days_overdue'])
            values.append({
                'move_type': 'out_invoice', 'partner_id': move.partner_id.id, 'company_id': move.company_id.id,
                'journal_id': move.journal_id.id, 'currency_id': move.currency_id.id, 'invoice_date': day,
                'invoice_date_due': day, 'invoice_origin': move.name, 'followup_fee_for_id': move.id,
                'followup_policy_id': False, 'followup_policy_manual': True,
                'invoice_line_ids': [Command.create({
                    'name': label, 'quantity': 1.0, 'price_unit': amount, 'tax_ids': [Command.clear()],
                })],
            })
        if not values:
            return self.browse()
        fees = self.create(values)
        fees.action_post()
        for fee in fees:
            fee.followup_fee_for_id.message_post(body=self.env._(
                "Late fee of %(amount)s charged with the reminder: %(fee)s.",
                amount=fee.currency_id.format(fee.amount_total), fee=fee._get_html_link()))
        return fees
