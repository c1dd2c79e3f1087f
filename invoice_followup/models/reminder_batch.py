# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a batch of the reminder cron prepares at once, before each invoice's own transaction: portal tokens, PDFs
and main attachments, on the invoices of the batch no other transaction holds (see ``cron_batch.lock_rows``)."""

import logging

import psycopg2.errors

from odoo import modules
from odoo.tools import SQL, config

from odoo.addons.base.models.ir_actions_report import _wkhtml

from .cron_batch import lock_rows

_logger = logging.getLogger(__name__)


def prepare_batch(moves):
    """Everything a batch of reminders needs that is costly one by one, in one transaction: portal tokens (the pay
    and self-service links embed them), the missing PDFs, then those PDFs as the invoices' main attachments.

    Only on the invoices no other transaction holds: another worker prepares or reminds those, and each invoice
    gets what it still lacks in its own transaction.

    :return: {invoice id: its PDF attachment}
    """
    env = moves.env
    env.cr.rollback()  # a fresh snapshot (the batch was only read): see lock_rows
    try:
        moves = lock_rows(moves, allow_referencing=True, claim=True)
    except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
        env.cr.rollback()
        return {}
    ensure_access_tokens(moves)
    pdfs = prepare_pdfs(moves)
    ensure_main_attachments(moves)
    env['ir.cron']._commit_progress()
    return pdfs


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
    return missing


def prepare_pdfs(moves):
    """Render the missing invoice PDFs of a batch in one wkhtmltopdf call.

    When the batch rendering fails, each invoice renders its own PDF in its own transaction later, so that one
    broken invoice only fails itself.
    """
    to_render = moves.filtered(
        lambda move: move.followup_next_step_id.channel == 'email' and not move.invoice_pdf_report_id)
    # wkhtmltopdf built on unpatched Qt (Debian's) renders a single document per call: nothing to batch then.
    if len(to_render) > 1 and can_batch_pdf(moves.env):
        try:
            with moves.env.cr.savepoint():
                to_render._followup_ensure_pdfs()
        except Exception:  # noqa: BLE001
            _logger.info("Batch PDF rendering failed; rendering invoice by invoice", exc_info=True)
            return {}
    return {move.id: move.invoice_pdf_report_id for move in moves if move.invoice_pdf_report_id}
