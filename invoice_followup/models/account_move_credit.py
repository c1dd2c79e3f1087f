# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountMove(models.Model):
    """The customer's overdue banner on the invoice, and no posting while the customer is on credit hold."""

    _name = 'account.move'
    _inherit = ['account.move', 'invoice.followup.credit.mixin']

    def _followup_credit_target(self):
        self.ensure_one()
        if self.move_type != 'out_invoice':
            return self.env['res.partner'], self.company_id, 0.0
        # A draft is not in the customer's balance yet: it counts against the credit limit.
        amount = self.amount_total_signed if self.state == 'draft' else 0.0
        return self.commercial_partner_id, self.company_id, amount

    def action_post(self):
        # A person posting (the button, or RPC); invoices posted by the system (recurring schedules, milestones,
        # auto-post) go through _post and are not held.
        invoices = self.filtered(lambda move: move.move_type == 'out_invoice' and move.state == 'draft')
        invoices._followup_check_credit_hold(
            self.env._("This invoice cannot be posted while its customer is on credit hold."))
        return super().action_post()
