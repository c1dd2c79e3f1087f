# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.cron_batch import is_transient

_logger = logging.getLogger(__name__)

# Above this many customers, *Send Statements* records the request and a cron sends it (parameter
# ``invoice_followup.statement_background_threshold``).
BACKGROUND_THRESHOLD = 20


class InvoiceFollowupStatementRequest(models.Model):
    """Statements to e-mail in the background: the customers still to do, emptied one committed customer at a time by
    Odoo's cron runner (each customer's e-mail and its removal from the list in one transaction: exactly once)."""

    _name = 'invoice.followup.statement.request'
    _description = "Statements to Send"
    _order = 'id desc'
    _check_company_auto = True

    company_id = fields.Many2one('res.company', required=True, readonly=True, index=True)
    user_id = fields.Many2one('res.users', string="Requested by", required=True, readonly=True)
    partner_ids = fields.Many2many('res.partner', string="Customers Left", readonly=True)
    state = fields.Selection([('queued', "Queued"), ('done', "Done")], default='queued', required=True,
                             readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    note = fields.Text(string="Skipped Customers", readonly=True)

    @api.model
    def _background_threshold(self):
        return int(self.env['ir.config_parameter'].sudo().get_param(
            'invoice_followup.statement_background_threshold', BACKGROUND_THRESHOLD))

    @api.model
    def _request(self, customers, company):
        """Record ``customers``' statements to send and wake the cron up (after this transaction commits)."""
        request = self.sudo().create({
            'company_id': company.id, 'user_id': self.env.user.id, 'partner_ids': [(6, 0, customers.ids)]})
        self.env.ref('invoice_followup.ir_cron_send_statements').sudo()._trigger()
        return request

    @api.model
    def _cron_send(self):
        cron = self.env['ir.cron']
        requests = self.search([('state', '=', 'queued')], order='id')
        cron._commit_progress(remaining=sum(len(request.partner_ids) for request in requests))
        for request in requests:
            for customer in request.partner_ids.sorted('id'):
                request._send_one(customer)
                if not cron._commit_progress(1):
                    return
            request.state = 'done'
            request._notify_done()
            cron._commit_progress()

    def _send_one(self, customer):
        """E-mail ``customer``'s statement, or count it as skipped with the reason; either way it leaves the list."""
        self.ensure_one()
        company = self.company_id
        values = {'partner_ids': [(3, customer.id)]}
        try:
            with self.env.cr.savepoint():
                self.env['invoice.followup.statement'].with_company(company)._send(customer, company)
            values['sent_count'] = self.sent_count + 1
        except Exception as error:  # noqa: BLE001 - one customer's fault must not stop the others
            if is_transient(error):
                raise
            reason = error.args[0] if isinstance(error, UserError) and error.args else str(error)
            if not isinstance(error, UserError):
                _logger.info("The statement of %s (id %s) could not be sent: %s", customer.name, customer.id, error)
            values.update(skipped_count=self.skipped_count + 1, note='\n'.join(filter(None, [self.note, reason])))
        self.write(values)

    def _notify_done(self):
        """Tell who asked, in the web client, how many statements went out and how many were skipped."""
        self.ensure_one()
        self.user_id._bus_send('simple_notification', {
            'type': 'warning' if self.skipped_count else 'success', 'sticky': bool(self.skipped_count),
            'title': self.env._("Statements sent"),
            'message': self.env._("%(sent)s statements sent, %(skipped)s skipped.%(note)s", sent=self.sent_count,
                                  skipped=self.skipped_count, note=f"\n{self.note}" if self.note else ""),
        })
