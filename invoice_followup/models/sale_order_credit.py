# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class SaleOrder(models.Model):
    """The customer's overdue banner on the order, and no confirmation while the customer is on credit hold."""

    _name = 'sale.order'
    _inherit = ['sale.order', 'invoice.followup.credit.mixin']

    def _followup_credit_target(self):
        self.ensure_one()
        # A quotation is not in the customer's balance yet: it counts against the credit limit.
        amount = self.amount_total / (self.currency_rate or 1.0) if self.state in ('draft', 'sent') else 0.0
        return self.partner_id.commercial_partner_id, self.company_id, amount

    def action_confirm(self):
        self._followup_check_credit_hold(self.env._(
            "This order cannot be confirmed while its customer is on credit hold."))
        return super().action_confirm()
