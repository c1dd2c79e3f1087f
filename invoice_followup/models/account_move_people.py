# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who acts for an invoice's reminders: the address they come from, the person who gets its calls and to-dos.

Invoices issued by a cron, a milestone or a script are created as the superuser: their salesperson is OdooBot, or
nobody. Reminders then come from the company and its collections responsible, never from OdooBot.
"""
from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = 'account.move'

    followup_salesperson_id = fields.Many2one(
        'res.users', string="Reminder Signatory", compute='_compute_followup_people', compute_sudo=True,
        export_string_translation=False,
        help="The invoice's salesperson when a person (not OdooBot): reminders carry their signature.")
    followup_email_from = fields.Char(
        string="Reminders Sent From", compute='_compute_followup_people', compute_sudo=True,
        export_string_translation=False,
        help="The salesperson's address, else the company's, else its collections responsible's.")

    @api.depends('invoice_user_id', 'company_id')
    def _compute_followup_people(self):
        for move in self:
            salesperson = move.invoice_user_id
            if not salesperson or not salesperson._followup_is_person():
                salesperson = self.env['res.users']
            move.followup_salesperson_id = salesperson
            company = move.company_id
            move.followup_email_from = (
                salesperson.email_formatted if salesperson.email else
                company.email_formatted if company.email else
                company and company._followup_responsible().email_formatted) or False

    def _followup_responsible(self):
        """Who gets this invoice's call and to-do steps: its policy's collector, else its salesperson, else the
        company's collections responsible; never OdooBot."""
        self.ensure_one()
        collector = self.followup_policy_id.collector_id
        if collector and collector._followup_is_person():
            return collector
        return self.followup_salesperson_id or self.company_id._followup_responsible()
