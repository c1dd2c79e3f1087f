# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a batch of reminders prepares at once instead of invoice by invoice: portal tokens, main attachments, and
whether PDFs render several per call."""

import logging

from odoo import modules
from odoo.tools import SQL, config

from odoo.addons.base.models.ir_actions_report import _wkhtml

_logger = logging.getLogger(__name__)


def can_batch_pdf(env):
    # Under tests Odoo renders reports as HTML (see ir.actions.report._pre_render_qweb_pdf): batching works.
    html_reports = (modules.module.current_test or config['test_enable']) and not env.context.get(
        'force_report_rendering')
    return html_reports or _wkhtml().is_patched_qt


def ensure_access_tokens(moves):
    """Give the invoices without one their portal access token, in one statement.

    ``portal.mixin._portal_ensure_token`` writes it invoice by invoice through ``account.move.write``, which
    re-synchronises the invoice's lines each time: a third of a reminder's cost on never-sent invoices.
    """
    missing = moves.filtered(lambda move: not move.access_token)
    if missing:
        moves.env.execute_query(SQL(
            "UPDATE account_move SET access_token = gen_random_uuid()::text "
            "WHERE id IN %s AND access_token IS NULL", tuple(missing.ids)))
        missing.invalidate_recordset(['access_token'])
        # Read back at once: core reads it invoice by invoice, each time from a record browsed alone.
        missing.fetch(['access_token'])
    return missing


def ensure_signup_data(partners):
    """Prepare the sign-up data of a batch's customers in one write, when invitations are open to everyone.

    The portal's e-mail button carries a sign-up token: core prepares it customer by customer while rendering each
    e-mail (``res.partner.signup_get_auth_param``, a write each time the data is missing).
    """
    env = partners.env
    if env['res.users'].sudo()._get_signup_invitation_scope() != 'b2c':
        return partners.browse()
    missing = partners.sudo().filtered(lambda partner: not partner.user_ids and partner.signup_type != 'signup')
    if missing:
        missing.signup_prepare()
    return missing


def ensure_main_attachments(moves):
    """Make each invoice's stored PDF its main attachment where none is set yet, in one statement.

    ``message_post`` does it otherwise on the first reminder, through ``account.move.write`` (which
    re-synchronises the invoice's lines): the PDF is the attachment it would pick, the only one a reminder carries.
    """
    missing = moves.filtered(lambda move: move.invoice_pdf_report_id and not move.message_main_attachment_id)
    if missing:
        moves.env.execute_query(SQL(
            "UPDATE account_move AS move SET message_main_attachment_id = pdf.id FROM ir_attachment AS pdf "
            "WHERE move.id IN %s AND move.message_main_attachment_id IS NULL AND pdf.res_model = 'account.move' "
            "AND pdf.res_field = 'invoice_pdf_report_file' AND pdf.res_id = move.id", tuple(missing.ids)))
        missing.invalidate_recordset(['message_main_attachment_id'])
        missing.fetch(['message_main_attachment_id'])
    return missing


OUTGOING_TYPES = ('comment', 'auto_comment', 'email', 'email_outgoing')


def mail_references(messages):
    """The ``References`` of each message's e-mail, as core's ``mail.thread._notify_by_email_get_base_mail_values``
    computes them (the three earlier messages of its thread most likely sent out, of its last 32, then itself), for
    a whole batch in one query: core searches them message by message.

    :return: {message: references}
    """
    Message = messages.env['mail.message'].sudo()
    references = {}
    for model, group in messages.grouped('model').items():
        extra = max(len(batch) for batch in group.grouped('res_id').values())  # the batch's own, left out below
        ids = [row[0] for row in messages.env.execute_query(SQL(
            """SELECT id FROM (
                   SELECT id, res_id, row_number() OVER (PARTITION BY res_id ORDER BY id DESC) AS rank
                     FROM mail_message
                    WHERE model = %s AND res_id IN %s AND subtype_id IS NOT NULL
                      AND message_id IS NOT NULL AND message_id != ''
               ) AS recent WHERE rank <= %s ORDER BY res_id, id DESC""",
            model, tuple(set(group.mapped('res_id'))), 32 + extra))]
        earlier = Message.browse(ids)
        earlier.fetch(['res_id', 'message_id', 'message_type', 'is_internal', 'subtype_id'])
        by_thread = earlier.grouped('res_id')
        for message in group:
            ancestors = (by_thread.get(message.res_id, Message) - message)[:32]
            likely_sent = ancestors.sorted(lambda m: (
                not m.is_internal and not m.subtype_id.internal,
                m.message_type in OUTGOING_TYPES,
                m.message_type not in ('user_notification', 'out_of_office'),
            ), reverse=True)
            references[message] = ' '.join(m.message_id for m in likely_sent[:3].sorted('id') + message.sudo())
    return references
