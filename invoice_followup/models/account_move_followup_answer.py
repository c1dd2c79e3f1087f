# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import binascii
from datetime import timedelta
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tools import float_round, format_date, hash_sign, plaintext2html, verify_hash_signed

from odoo.addons.payment import utils as payment_utils

from ..const import WAITING_FOR_A_PERSON

PAID_STATES = ('paid', 'in_payment', 'reversed')
RESPOND_SCOPE = 'invoice_followup.respond'
RESPOND_TOKEN_HOURS = 24 * 180
MAX_COMMENT_LENGTH = 2000
MAX_PLAN_INSTALLMENTS = 6


class InvoiceFollowupAnswerMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: what customers answer about an invoice
    (a promise, a payment plan, a dispute), kept per invoice in ``invoice.followup.case.answer`` and driving that
    invoice's reminders only; and the invoice's side of the self-service page every reminder links to
    (controllers/portal.py). ``self`` is always an invoice."""

    _name = 'invoice.followup.answer.mixin'
    _description = "Invoice: Customer Answers"

    # -------------------------------------------------------------------------
    # ANSWERS AND THE CADENCE
    # -------------------------------------------------------------------------

    def _followup_is_paid(self):
        """Nothing is left to pay, whether or not the invoice is reminded (no policy, under the minimum amount)."""
        self.ensure_one()
        return self.payment_state in PAID_STATES or self.currency_id.is_zero(self.amount_residual)

    def _followup_answer(self, case):
        """What the customer said about this invoice in ``case``."""
        self.ensure_one()
        return self.followup_answer_ids.filtered(lambda answer: answer.case_id == case)[:1]

    def _followup_plan_lines(self, case):
        """This invoice's installments in ``case`` (never another invoice's)."""
        self.ensure_one()
        return self.followup_plan_line_ids.filtered(lambda line: line.case_id == case)

    def _followup_waiting_answer(self, reason):
        """This invoice's answer in its open case of ``reason``, while it holds (not closed); else empty."""
        self.ensure_one()
        return self.followup_answer_ids.filtered(
            lambda answer: answer.case_id.is_open and answer.case_id.reason == reason and not answer.is_closed)[:1]

    def _followup_pausing_cases(self):
        """Open cases that pause this invoice: those of a pausing reason, except where this invoice's own answer is
        closed (its promise or plan broken, its plan refused) while the case goes on for other invoices."""
        self.ensure_one()
        closed = self.followup_answer_ids.filtered('is_closed').case_id
        pausing = self.followup_case_ids._followup_pauses() - closed
        if any(case.reason == 'bounce' for case in pausing) and self._followup_texts_when_bounced():
            pausing = pausing.filtered(lambda case: case.reason != 'bounce')  # the SMS fallback keeps it going
        return pausing

    def _followup_resume_date(self):
        """When the cron must look at a paused invoice again: end of a manual pause, the day after the date this
        invoice's customer promised, the day after the next installment of this invoice's approved plan.
        False: only a person resumes it."""
        self.ensure_one()
        pausing = self._followup_pausing_cases()
        if pausing.filtered(lambda case: case.reason in WAITING_FOR_A_PERSON):
            return False
        dates = [self.followup_paused_until] if self.followup_paused_until else []
        for case in pausing:
            answer = self._followup_answer(case)
            if case.reason == 'promise' and answer.promise_date:
                dates.append(answer.promise_date + timedelta(days=1))
            elif case.reason == 'payment_plan' and answer.plan_state == 'approved':
                pending = self._followup_plan_lines(case).filtered(lambda line: not line.is_checked)
                if pending:
                    dates.append(min(pending.mapped('date')) + timedelta(days=1))
        return min(dates) if dates else False

    def _followup_commitments(self, today):
        """This invoice's promise and approved plan whose date has passed, read-only: [(case, kept)].

        A promise whose date passed is broken (the invoice is still open); a plan is kept while what was paid covers
        the installments due before ``today``."""
        self.ensure_one()
        result = []
        for case in self._followup_pausing_cases():
            answer = self._followup_answer(case)
            if case.reason == 'promise' and answer.promise_date and answer.promise_date < today:
                result.append((case, False))
            elif case.reason == 'payment_plan' and answer.plan_state == 'approved':
                lines = self._followup_plan_lines(case)
                if not lines.filtered(lambda line: not line.is_checked and line.date < today):
                    continue
                planned = sum(lines.filtered(lambda line: line.date < today).mapped('amount'))
                paid = sum(lines.mapped('amount')) - self.amount_residual
                result.append((case, self.currency_id.compare_amounts(paid, planned) >= 0))
        return result

    def _followup_check_commitments(self, today):
        """This invoice's promise and approved plan whose date has passed: kept, they go on; broken, the invoice
        leaves its case (which goes on for the customer's other invoices), a broken-promise case opens and its
        cadence resumes."""
        self.ensure_one()
        Case = self.env['invoice.followup.case']
        for case, kept in self._followup_commitments(today):
            answer = self._followup_answer(case)
            due_lines = self._followup_plan_lines(case).filtered(lambda line: not line.is_checked and line.date < today)
            if kept:
                due_lines.is_checked = True
                continue
            if case.reason == 'promise':
                body = self.env._("The payment of invoice %(invoice)s promised for %(date)s did not arrive.",
                                  invoice=self.name, date=format_date(self.env, answer.promise_date))
                case._followup_close_answers(self, body=body)
                Case._followup_open(self, 'broken_promise', body=body, promise_date=answer.promise_date)
            else:
                body = self.env._(
                    "The installment of the payment plan of invoice %(invoice)s due on %(date)s was missed.",
                    invoice=self.name, date=format_date(self.env, max(due_lines.mapped('date'))))
                case._followup_close_answers(self, body=body)
                Case._followup_open(self, 'broken_promise', body=body)

    def _followup_bring_up_to_date(self, today):
        """Before planning ``today``: pauses whose date has come end, promises and plans are found kept or broken
        (what ``invoice.followup.planner._resumes`` foresees)."""
        for move in self.filtered(lambda move: move.followup_state == 'paused'):
            move._followup_check_commitments(today)
            if move.followup_paused_until and move.followup_paused_until <= today:
                move.followup_paused_until = False
                move.message_post(body=self.env._("Reminder pause ended."))

    # -------------------------------------------------------------------------
    # SELF-SERVICE PAGE (controllers/portal.py)
    # -------------------------------------------------------------------------

    def _followup_respond_token(self):
        """Signed, expiring token for this invoice's self-service page, in a scope of its own: the invoice's
        portal access_token does not open it, and it opens nothing else."""
        self.ensure_one()
        return hash_sign(self.sudo().env, RESPOND_SCOPE, {'move_id': self.id}, expiration_hours=RESPOND_TOKEN_HOURS)

    @api.model
    def _followup_from_respond_token(self, token):
        """The invoice a token opens (sudo), or an empty recordset for any bad token."""
        try:
            values = verify_hash_signed(self.sudo().env, RESPOND_SCOPE, token)
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
            values = None
        move_id = values.get('move_id') if isinstance(values, dict) else None
        if not isinstance(move_id, int):
            return self.browse()
        move = self.sudo().browse(move_id).exists()
        if move.move_type != 'out_invoice' or move.state != 'posted':
            return self.browse()
        return move

    def _followup_respond_page_values(self, token=None, url_prefix=''):
        """What the page shows. Its links go through the page's own ``token``: the invoice's portal access token is
        neither shown nor created (showing the page writes nothing). ``url_prefix``: a language asked in the URL
        (``/fr``), kept by the page's links and forms."""
        self.ensure_one()
        today = self.company_id._followup_today()
        page_url = f'{url_prefix}/invoice_followup/respond/{token}' if token else False
        is_paid = self._followup_is_paid()
        amount_due = self.followup_amount_due
        return {
            'move': self,
            'company': self.company_id,
            'is_paid': is_paid,
            'amount_due': amount_due,
            'due_date': self.followup_due_date,
            'pay_url': page_url and self._followup_respond_pay_url() and f'{page_url}/pay',
            'invoice_url': page_url and f'{page_url}/invoice',
            'page_url': page_url,
            'today': today,
            'promise_max_date': today + timedelta(days=self.company_id.followup_promise_days),
            'open_dispute': self._followup_waiting_answer('dispute').filtered('dispute_reason'),
            'open_promise': self._followup_waiting_answer('promise').filtered('promise_date'),
            'open_plan': self._followup_waiting_answer('payment_plan').filtered('plan_line_ids'),
            'dispute_reasons': list(self._followup_dispute_reasons().items()),
            'max_installments': MAX_PLAN_INSTALLMENTS,
        }

    def _followup_respond_pay_url(self):
        """Odoo's payment link for what is due now: ``/payment/pay`` for this invoice with an access token scoped to
        this amount, customer and currency, not the invoice's portal access token. False when nothing is due."""
        self.ensure_one()
        amount = self.followup_amount_due
        if self._followup_is_paid() or self.currency_id.compare_amounts(amount, 0) <= 0:
            return False
        token = payment_utils.generate_access_token(self.partner_id.id, amount, self.currency_id.id, env=self.env)
        return f"/payment/pay?{urlencode({'invoice_id': self.id, 'amount': amount, 'access_token': token})}"

    def _followup_respond_document(self):
        """The invoice's PDF for the page: the one issued, else rendered now (and not stored: a GET writes nothing).

        :return: {'filename': ..., 'filetype': ..., 'content': ...}
        """
        self.ensure_one()
        return self._get_invoice_legal_documents('pdf', allow_fallback=True)

    def _followup_customer_response(self, action, values):
        """Record what the customer answered from the self-service page.

        :param values: the form read by ``controllers.portal.answer_values`` (typed values, checked here)

        :return: {'confirmation': text} or {'error': text}; nothing is written on error or on a paid invoice. An
                 answer already recorded (a second tab, a double click) gets the same confirmation and records
                 nothing more.
        """
        self.ensure_one()
        if self._followup_is_paid():
            return {'confirmation': self.env._("This invoice is paid. Thank you!")}
        handler = {
            'dispute': self._followup_customer_dispute,
            'promise': self._followup_customer_promise,
            'plan': self._followup_customer_plan,
        }[action]
        try:
            return {'confirmation': handler(**values)}
        except ValidationError as error:
            return {'error': error.args[0]}

    def _followup_dispute_reasons(self):
        return {
            'amount': self.env._("The amount is wrong"),
            'delivery': self.env._("Not delivered or not complete"),
            'quality': self.env._("Quality problem"),
            'paid': self.env._("Already paid"),
            'other': self.env._("Something else"),
        }

    def _followup_customer_comment(self, comment):
        comment = (comment or '').strip()
        if len(comment) > MAX_COMMENT_LENGTH:
            raise ValidationError(self.env._(
                "Please keep your message under %(count)s characters.", count=MAX_COMMENT_LENGTH))
        return comment

    def _followup_customer_dispute(self, reason, comment=''):
        thanks = self.env._("Thank you. Reminders for this invoice are paused while we look into it.")
        if self._followup_waiting_answer('dispute').dispute_reason:
            return thanks
        labels = self._followup_dispute_reasons()
        if reason not in labels:
            raise ValidationError(self.env._("Please tell us what is wrong with the invoice."))
        comment = self._followup_customer_comment(comment)
        body = Markup("<p>%s</p><p><b>%s</b></p>%s") % (
            self.env._("The customer disputes invoice %(invoice)s.", invoice=self.name),
            str(labels[reason]), plaintext2html(comment) if comment else '')
        case = self.env['invoice.followup.case']._followup_open(
            self, 'dispute', body=body, dispute_reason=reason, comment=comment or False)
        case._followup_notify_assignee(self.env._("Dispute on %(invoice)s", invoice=self.name))
        self.sudo().message_post(body=body, author_id=self.commercial_partner_id.id)
        return thanks

    def _followup_customer_promise(self, promise_date):
        promised = self._followup_waiting_answer('promise').promise_date
        if promised:
            promise_date = promised
        else:
            promise_date = self._followup_customer_date(promise_date)
            body = self.env._("The customer promises to pay invoice %(invoice)s on %(date)s.",
                              invoice=self.name, date=format_date(self.env, promise_date))
            self.env['invoice.followup.case']._followup_open(self, 'promise', body=body, promise_date=promise_date)
            self.sudo().message_post(body=body, author_id=self.commercial_partner_id.id)
        return self.env._("Thank you. We will not send reminders for this invoice until %(date)s.",
                          date=format_date(self.env, promise_date))

    def _followup_customer_plan(self, first_date, installments, comment=''):
        thanks = self.env._("Thank you. We will review your payment plan and come back to you.")
        if self._followup_waiting_answer('payment_plan').plan_line_ids:
            return thanks
        first_date = self._followup_customer_date(first_date)
        count = installments or 0
        if not 2 <= count <= MAX_PLAN_INSTALLMENTS:
            raise ValidationError(self.env._(
                "A payment plan has from 2 to %(count)s installments.", count=MAX_PLAN_INSTALLMENTS))
        comment = self._followup_customer_comment(comment)
        lines = self._followup_split_plan(first_date, count)
        body = Markup("<p>%s</p><ul>%s</ul>%s") % (
            self.env._("The customer asks to pay invoice %(invoice)s in %(count)s installments:",
                       invoice=self.name, count=count),
            Markup().join(Markup("<li>%s: %s</li>") % (format_date(self.env, line['date']),
                                                       self.currency_id.format(line['amount'])) for line in lines),
            plaintext2html(comment) if comment else '')
        case = self.env['invoice.followup.case']._followup_open(
            self, 'payment_plan', body=body, comment=comment or False, plan_state='proposed',
            plan_line_ids=[Command.create(line) for line in lines])
        case._followup_notify_assignee(self.env._("Payment plan request for %(invoice)s", invoice=self.name))
        self.sudo().message_post(body=body, author_id=self.commercial_partner_id.id)
        return thanks

    def _followup_customer_date(self, day):
        today = self.company_id._followup_today()
        if not day:
            raise ValidationError(self.env._("Please choose a date."))
        latest = today + timedelta(days=self.company_id.followup_promise_days)
        if not today < day <= latest:
            raise ValidationError(self.env._(
                "Please choose a date after today and no later than %(date)s.", date=format_date(self.env, latest)))
        return day

    def _followup_split_plan(self, first_date, count):
        """Monthly installments of the amount due, rounded down to the currency's unit; the last one takes the rest,
        so that none is zero or negative.

        :raise ValidationError: the amount is too small for ``count`` installments of at least one unit
        """
        currency = self.currency_id
        residual = self.amount_residual
        share = float_round(residual / count, precision_rounding=currency.rounding, rounding_method='DOWN')
        if currency.compare_amounts(share, 0) <= 0:
            most = int(float_round(residual / currency.rounding, precision_digits=0, rounding_method='DOWN'))
            raise ValidationError(self.env._(
                "The amount due, %(amount)s, is too small to be paid in %(count)s installments: %(advice)s",
                amount=currency.format(residual), count=count,
                advice=self.env._("please choose %(most)s installments or fewer.", most=most) if most >= 2
                else self.env._("please pay it at once.")))
        lines = [{'date': first_date + relativedelta(months=index), 'amount': share} for index in range(count)]
        lines[-1]['amount'] = currency.round(residual - share * (count - 1))
        return lines
