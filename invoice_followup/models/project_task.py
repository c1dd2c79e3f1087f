# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class ProjectTask(models.Model):
    _inherit = 'project.task'

    @api.model_create_multi
    def create(self, vals_list):
        tasks = super().create(vals_list)
        tasks.milestone_id._billing_auto_reach()
        return tasks

    def write(self, vals):
        previous = self.milestone_id if 'milestone_id' in vals else self.env['project.milestone']
        res = super().write(vals)
        if {'state', 'milestone_id', 'stage_id'} & vals.keys():
            (self.milestone_id | previous)._billing_auto_reach()
        return res
