# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

MAX_DELIVERY_JOBS = 16


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    followup_automation = fields.Boolean(related='company_id.followup_automation', readonly=False)
    followup_policy_id = fields.Many2one(related='company_id.followup_policy_id', readonly=False)
    followup_business_days = fields.Boolean(related='company_id.followup_business_days', readonly=False)
    followup_min_amount = fields.Monetary(related='company_id.followup_min_amount', readonly=False)
    followup_min_gap_days = fields.Integer(related='company_id.followup_min_gap_days', readonly=False)
    followup_consolidate = fields.Boolean(related='company_id.followup_consolidate', readonly=False)
    followup_promise_days = fields.Integer(related='company_id.followup_promise_days', readonly=False)
    followup_notify_followers = fields.Boolean(related='company_id.followup_notify_followers', readonly=False)
    followup_tracking = fields.Boolean(related='company_id.followup_tracking', readonly=False)
    followup_delivery_jobs = fields.Integer(
        string="Parallel Delivery Jobs", default=1, config_parameter='invoice_followup.delivery_jobs',
        help="How many cron jobs send the reminder queue at the same time: up to the cron workers your servers run "
        "(max_cron_threads on each server sharing the database).")

    @api.constrains('followup_delivery_jobs')
    def _check_followup_delivery_jobs(self):
        for settings in self:
            if not 1 <= settings.followup_delivery_jobs <= MAX_DELIVERY_JOBS:
                raise ValidationError(self.env._(
                    "Parallel delivery jobs: choose a number from 1 to %(max)s.", max=MAX_DELIVERY_JOBS))

    def set_values(self):
        res = super().set_values()
        self.env['invoice.followup.delivery']._set_job_count(self.followup_delivery_jobs)
        return res
    followup_test_mode = fields.Boolean(related='company_id.followup_test_mode', readonly=False)
    followup_test_email = fields.Char(related='company_id.followup_test_email', readonly=False)
    followup_user_id = fields.Many2one(related='company_id.followup_user_id', readonly=False)
    followup_policy_by_risk = fields.Boolean(related='company_id.followup_policy_by_risk', readonly=False)
    followup_policy_good_id = fields.Many2one(related='company_id.followup_policy_good_id', readonly=False)
    followup_policy_watch_id = fields.Many2one(related='company_id.followup_policy_watch_id', readonly=False)
    followup_policy_risky_id = fields.Many2one(related='company_id.followup_policy_risky_id', readonly=False)
    followup_credit_hold = fields.Boolean(related='company_id.followup_credit_hold', readonly=False)
    followup_credit_hold_days = fields.Integer(related='company_id.followup_credit_hold_days', readonly=False)

    def action_open_followup_preview(self):
        return self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_preview_action')
