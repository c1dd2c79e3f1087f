# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = 'account.move.send'

    @api.model
    def _get_default_mail_template_id(self, move):
        """An invoice of a recurring schedule is sent with the schedule's e-mail template."""
        template = move.sudo().recurring_id.mail_template_id
        return template.sudo(False) if template else super()._get_default_mail_template_id(move)

    @api.model
    def _get_default_sending_methods(self, move) -> set:
        """An invoice of a recurring schedule that sends its invoices goes by e-mail (and the customer's own
        electronic ways, if any)."""
        methods = super()._get_default_sending_methods(move)
        if move.sudo().recurring_id.auto_send:
            return (methods - {'manual'}) | {'email'}
        return methods

    @api.model
    def _followup_send_later(self, moves, author):
        """Hand posted invoices to Odoo's own sending job (``account.ir_cron_account_move_send``): the PDF is
        rendered and the e-mail queued there, never inside the caller's transaction or cron.

        :param author: the user the sending is done for (notified of its result)
        """
        cron = self.env.ref('account.ir_cron_account_move_send', raise_if_not_found=False)
        if cron and cron.sudo().active:
            moves.sudo().sending_data = {'author_user_id': author.id, 'author_partner_id': author.partner_id.id}
            cron.sudo()._trigger()
            return
        # Odoo's sending job is switched off: send now, but through the mail queue all the same.
        self.with_context(mail_notify_force_send=False)._generate_and_send_invoices(
            moves.with_context(mail_notify_force_send=False), allow_raising=False,
            author_user_id=author.id, author_partner_id=author.partner_id.id)
