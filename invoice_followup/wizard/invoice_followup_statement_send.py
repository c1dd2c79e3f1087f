# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError


class InvoiceFollowupStatementSend(models.TransientModel):
    """*Send Statements* for the customers selected in a list: a few are e-mailed at once, many in the background
    (``invoice.followup.statement.request``); those without an address or without anything open are skipped and
    counted."""

    _name = 'invoice.followup.statement.send'
    _description = "Send Statements"

    partner_ids = fields.Many2many('res.partner', string="Customers", required=True,
                                   default=lambda self: self._default_partners())
    company_id = fields.Many2one('res.company', required=True, readonly=True, default=lambda self: self.env.company)
    customer_count = fields.Integer(compute='_compute_counts')
    ready_count = fields.Integer(string="Ready to Send", compute='_compute_counts')
    skipped_count = fields.Integer(string="Will Be Skipped", compute='_compute_counts')
    in_background = fields.Boolean(compute='_compute_counts')

    @api.model
    def _default_partners(self):
        if self.env.context.get('active_model') == 'res.partner':
            return self.env['res.partner'].browse(self.env.context.get('active_ids', [])).commercial_partner_id
        return self.env['res.partner']

    @api.depends('partner_ids', 'company_id')
    def _compute_counts(self):
        Statement = self.env['invoice.followup.statement']
        threshold = self.env['invoice.followup.statement.request']._background_threshold()
        for wizard in self:
            customers = wizard.partner_ids.commercial_partner_id
            statements = Statement._statements(customers, wizard.company_id) if customers else {}
            skipped = sum(1 for statement in statements.values() if Statement._check_sendable(statement))
            wizard.customer_count = len(customers)
            wizard.skipped_count = skipped
            wizard.ready_count = len(customers) - skipped
            wizard.in_background = len(customers) > threshold

    def action_send(self):
        self.ensure_one()
        customers = self.partner_ids.commercial_partner_id
        company = self.company_id
        Statement = self.env['invoice.followup.statement'].with_company(company)
        if not customers:
            raise UserError(self.env._("Select the customers whose statement to send."))
        if len(customers) == 1:
            Statement._send(customers, company)
            return self._notify(self.env._("Statement sent to %(customer)s.", customer=customers.display_name))
        if len(customers) > self.env['invoice.followup.statement.request']._background_threshold():
            self.env['invoice.followup.statement.request']._request(customers, company)
            return self._notify(self.env._(
                "%(count)s statements are being sent in the background.", count=len(customers)))
        statements = Statement._statements(customers, company)
        reasons = [reason for statement in statements.values() if (reason := Statement._check_sendable(statement))]
        for customer, statement in statements.items():
            if not Statement._check_sendable(statement):
                Statement._send(customer, company)
        message = self.env._("%(sent)s statements sent.", sent=len(customers) - len(reasons))
        if reasons:
            message = self.env._("%(message)s %(skipped)s skipped: %(reasons)s", message=message,
                                 skipped=len(reasons), reasons=' '.join(reasons))
        return self._notify(message, 'warning' if reasons else 'success')

    def _notify(self, message, kind='success'):
        return {'type': 'ir.actions.client', 'tag': 'display_notification', 'params': {
            'type': kind, 'message': message, 'sticky': kind != 'success',
            'next': {'type': 'ir.actions.act_window_close'}}}
