# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class InvoiceFollowupCaseStage(models.Model):
    _name = 'invoice.followup.case.stage'
    _description = "Collection Case Stage"
    _order = 'sequence, id'

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean(string="Folded in Kanban")
    is_resolved = fields.Boolean(
        string="Resolved Stage",
        help="Cases in this stage are closed: the reminders they paused resume at the next step.",
    )
