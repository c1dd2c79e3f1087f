# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ResPartner(models.Model):
    """The payment score of the customer and the overdue banner of its form."""

    _name = 'res.partner'
    _inherit = ['res.partner', 'invoice.followup.risk.mixin', 'invoice.followup.credit.mixin']

    def _followup_credit_target(self):
        self.ensure_one()
        return self.commercial_partner_id, self.env.company, 0.0
