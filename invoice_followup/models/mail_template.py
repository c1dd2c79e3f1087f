# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MailTemplate(models.Model):
    _inherit = 'mail.template'

    # Community templates belong to no company. A reminder template written for one company (its name, its bank
    # details, its tone) is given that company, so that the steps and schedules of another company cannot use it
    # (check_company on invoice.followup.step and invoice.followup.recurring).
    company_id = fields.Many2one(
        'res.company',
        string="Company",
        index='btree_not_null',
        help="Only this company's reminder steps and recurring schedules may use this template. Empty: shared.",
    )
