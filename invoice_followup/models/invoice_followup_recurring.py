# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

import psycopg2.errors
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools.misc import format_date

_logger = logging.getLogger(__name__)

INTERVAL_UNITS = [
    ('day', "Days"),
    ('week', "Weeks"),
    ('month', "Months"),
    ('year', "Years"),
]
RECURRING_STATES = [
    ('draft', "Draft"),
    ('running', "Running"),
    ('paused', "Paused"),
    ('done', "Done"),
]
# Fields that place the periods on the calendar: once a period is billed they are frozen, or the periods
# already billed would no longer match the schedule (and the unique key per period would stop protecting them).
PERIOD_FIELDS = ('date_start', 'interval_number', 'interval_unit', 'billing_timing')


class InvoiceFollowupRecurring(models.Model):
    _name = 'invoice.followup.recurring'
    _description = "Recurring Invoice Schedule"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _order = 'next_invoice_date, id'
    _check_company_auto = True

    def _default_journal_id(self):
        return self.env['account.journal'].search([
            *self.env['account.journal']._check_company_domain(self.env.company),
            ('type', '=', 'sale'),
        ], limit=1)

    def _default_mail_template_id(self):
        return self.env.ref('account.email_template_edi_invoice', raise_if_not_found=False)

    name = fields.Char(string="Reference", required=True, tracking=True)
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one(
        'res.partner', string="Customer", required=True, index=True, check_company=True, tracking=True)
    user_id = fields.Many2one(
        'res.users',
        string="Responsible",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        help="Gets a to-do when the schedule fails.",
    )
    company_id = fields.Many2one(
        'res.company', string="Company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(
        'res.currency',
        string="Currency",
        required=True,
        default=lambda self: self._default_currency_id(),
        tracking=True,
    )
    journal_id = fields.Many2one(
        'account.journal',
        string="Journal",
        required=True,
        check_company=True,
        domain="[('type', '=', 'sale')]",
        default=lambda self: self._default_journal_id(),
    )
    payment_term_id = fields.Many2one('account.payment.term', string="Payment Terms", check_company=True)
    line_ids = fields.One2many('invoice.followup.recurring.line', 'recurring_id', string="Lines", copy=True)
    amount_untaxed = fields.Monetary(string="Untaxed Amount", compute='_compute_amount_untaxed')

    interval_number = fields.Integer(string="Every", default=1, required=True, tracking=True)
    interval_unit = fields.Selection(INTERVAL_UNITS, string="Unit", default='month', required=True, tracking=True)
    billing_timing = fields.Selection(
        [('advance', "In advance"), ('arrears', "In arrears")],
        string="Billing",
        default='advance',
        required=True,
        help="In advance: each period is billed on its first day. "
        "In arrears: each period is billed once it is over, on the first day of the next one.",
    )
    date_start = fields.Date(
        string="Start Date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="First day of the first period. Its day of the month is kept: a schedule starting on the 31st bills "
        "on the last day of shorter months and on the 31st again when the month has one.",
    )
    date_end = fields.Date(
        string="End Date", tracking=True, help="No period starting after this date is billed. Empty: no end.")
    max_invoices = fields.Integer(
        string="Number of Invoices", tracking=True, help="Stop after this many invoices. Zero: no limit.")
    next_period_number = fields.Integer(
        default=0, copy=False, export_string_translation=False,
        help="Index of the next period to bill (0 is the period starting on the start date).")
    next_invoice_date = fields.Date(
        string="Next Invoice",
        compute='_compute_next_invoice_date',
        store=True,
        index='btree_not_null',
        copy=False,
        help="When the next invoice is generated. Empty when the schedule has ended.",
    )
    next_dates_display = fields.Char(
        string="Next Billing Dates", compute='_compute_next_dates_display', export_string_translation=False)
    state = fields.Selection(
        RECURRING_STATES, string="Status", default='draft', required=True, copy=False, index=True, tracking=True)

    auto_post = fields.Boolean(
        string="Post Automatically", default=True, help="Post each generated invoice. Off: it stays a draft.")
    auto_send = fields.Boolean(
        string="Send Automatically",
        default=True,
        help="E-mail each posted invoice to the customer with its PDF, through Odoo's invoice sending.",
    )
    mail_template_id = fields.Many2one(
        'mail.template',
        string="E-mail Template",
        domain="[('model', '=', 'account.move')]",
        default=lambda self: self._default_mail_template_id(),
    )
    followup_policy_id = fields.Many2one(
        'invoice.followup.policy',
        string="Follow-up Policy",
        check_company=True,
        help="Reminder policy of the generated invoices. Empty: the customer's or the company's.",
    )
    invoice_ids = fields.One2many('account.move', 'recurring_id', string="Invoices", readonly=True)
    invoice_count = fields.Integer(compute='_compute_invoice_count', export_string_translation=False)
    error_message = fields.Text(string="Error", copy=False, readonly=True)

    _check_interval_number = models.Constraint(
        'CHECK(interval_number > 0)', "The interval of a recurring invoice must be at least 1.")
    _check_max_invoices = models.Constraint(
        'CHECK(max_invoices >= 0)', "The number of invoices of a recurring invoice cannot be negative.")

    def _default_currency_id(self):
        return self.env.company.currency_id

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends('line_ids.price_subtotal')
    def _compute_amount_untaxed(self):
        for schedule in self:
            schedule.amount_untaxed = sum(schedule.line_ids.mapped('price_subtotal'))

    @api.depends(
        'state', 'next_period_number', 'date_start', 'date_end', 'max_invoices', 'interval_number', 'interval_unit',
        'billing_timing', 'invoice_ids.state',
    )
    def _compute_next_invoice_date(self):
        for schedule in self:
            date = False
            if schedule.state in ('draft', 'running') and schedule.interval_number > 0 and schedule.date_start:
                if not schedule._is_finished(schedule.next_period_number):
                    date = schedule._get_period(schedule.next_period_number)[2]
            schedule.next_invoice_date = date

    @api.depends_context('lang')
    @api.depends('next_invoice_date', 'next_period_number', 'date_end', 'max_invoices')
    def _compute_next_dates_display(self):
        for schedule in self:
            dates = []
            number = schedule.next_period_number
            if schedule.next_invoice_date:
                while len(dates) < 3 and not schedule._is_finished(number, extra=len(dates)):
                    dates.append(format_date(self.env, schedule._get_period(number)[2]))
                    number += 1
            schedule.next_dates_display = " · ".join(dates)

    def _compute_invoice_count(self):
        counts = dict(self.env['account.move']._read_group(
            [('recurring_id', 'in', self.ids)], ['recurring_id'], ['__count']))
        for schedule in self:
            schedule.invoice_count = counts.get(schedule, 0)

    # -------------------------------------------------------------------------
    # CONSTRAINS AND ONCHANGE
    # -------------------------------------------------------------------------

    @api.constrains('date_start', 'date_end')
    def _check_dates(self):
        for schedule in self:
            if schedule.date_end and schedule.date_end < schedule.date_start:
                raise ValidationError(self.env._(
                    "The end date of “%(name)s” is before its start date.", name=schedule.name))

    @api.constrains('currency_id', 'journal_id')
    def _check_journal_currency(self):
        for schedule in self:
            journal_currency = schedule.journal_id.currency_id
            if journal_currency and journal_currency != schedule.currency_id:
                raise ValidationError(self.env._(
                    "Journal %(journal)s only accepts invoices in %(currency)s.",
                    journal=schedule.journal_id.display_name, currency=journal_currency.name))

    @api.onchange('company_id')
    def _onchange_company_id(self):
        self.currency_id = self.company_id.currency_id
        self.journal_id = self.with_company(self.company_id)._default_journal_id()

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    def write(self, vals):
        changed = [name for name in PERIOD_FIELDS if name in vals]
        for schedule in self.filtered('invoice_ids') if changed else ():
            if any(self._fields[name].convert_to_cache(vals[name], schedule) != schedule[name] for name in changed):
                raise UserError(self.env._(
                    "“%(name)s” has already billed periods: its start date, interval and billing mode can no "
                    "longer change. End it and create a new schedule instead.", name=schedule.name))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.filtered('invoice_ids'):
            raise UserError(self.env._(
                "A recurring invoice that has generated invoices cannot be deleted: end or archive it instead."))

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_start(self):
        for schedule in self:
            if schedule.state != 'draft':
                raise UserError(self.env._("“%(name)s” is already started.", name=schedule.name))
            if not schedule.line_ids:
                raise UserError(self.env._(
                    "Add at least one line to “%(name)s” before starting it.", name=schedule.name))
        self.write({'state': 'running'})
        return True

    def action_pause(self):
        if self.filtered(lambda schedule: schedule.state != 'running'):
            raise UserError(self.env._("Only a running recurring invoice can be paused."))
        self.write({'state': 'paused'})
        return True

    def action_resume(self):
        """Resume a paused (or failed) schedule. Periods whose billing date passed meanwhile are skipped: a pause
        never back-bills."""
        for schedule in self:
            if schedule.state not in ('paused', 'running'):
                raise UserError(self.env._("Only a paused recurring invoice can be resumed."))
            today = schedule.company_id._followup_today()
            number = schedule.next_period_number
            if schedule.state == 'paused':
                while not schedule._is_finished(number) and schedule._get_period(number)[2] < today:
                    number += 1
            skipped = number - schedule.next_period_number
            schedule.write({'state': 'running', 'next_period_number': number, 'error_message': False})
            schedule._clear_error_activities()
            if skipped:
                schedule.message_post(body=self.env._(
                    "Resumed: %(count)s period(s) that fell in the pause are not billed.", count=skipped))
            if schedule._is_finished(number):
                schedule.state = 'done'
        return True

    def action_end(self):
        self.write({'state': 'done'})
        return True

    def action_reset_draft(self):
        if self.filtered('invoice_ids'):
            raise UserError(self.env._("A recurring invoice that has generated invoices cannot go back to draft."))
        self.write({'state': 'draft'})
        return True

    def action_generate_now(self):
        """Bill every period that is due today, right away (what the daily run would do)."""
        self.check_access('write')
        moves = self.env['account.move']
        for schedule in self:
            if schedule.state != 'running':
                raise UserError(self.env._(
                    "Start or resume “%(name)s” before generating its invoices.", name=schedule.name))
            schedule.lock_for_update()
            schedule.error_message = False
            today = schedule.company_id._followup_today()
            while result := schedule.sudo().with_company(schedule.company_id)._generate_next(today):
                if result is not True:
                    moves |= result
        if moves:
            self.env.ref('mail.ir_cron_mail_scheduler_action')._trigger()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success' if moves else 'info',
                'message': self.env._("%(count)s invoice(s) generated.", count=len(moves)),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('account.action_move_out_invoice_type')
        action['domain'] = [('recurring_id', '=', self.id)]
        action['context'] = {'default_move_type': 'out_invoice', 'create': False}
        return action

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: periods
    # -------------------------------------------------------------------------

    def _interval(self, count):
        """``count`` intervals of the schedule, as a relativedelta."""
        self.ensure_one()
        amount = count * self.interval_number
        return {
            'day': relativedelta(days=amount),
            'week': relativedelta(weeks=amount),
            'month': relativedelta(months=amount),
            'year': relativedelta(years=amount),
        }[self.interval_unit]

    def _get_period(self, number):
        """Period ``number`` (0 = the first): (first day, last day, billing date).

        Every period start is computed from the start date (start + n intervals), never from the previous period,
        so that the anchor day is kept: 31 Jan, 28 Feb, 31 Mar, not 31 Jan, 28 Feb, 28 Mar.
        """
        self.ensure_one()
        start = self.date_start + self._interval(number)
        next_start = self.date_start + self._interval(number + 1)
        billing_date = start if self.billing_timing == 'advance' else next_start
        return start, next_start - relativedelta(days=1), billing_date

    def _is_finished(self, number, extra=0):
        """Whether period ``number`` is past the end of the schedule (end date, or ``extra`` more invoices than
        those already issued reach the maximum)."""
        self.ensure_one()
        if self.date_end and self._get_period(number)[0] > self.date_end:
            return True
        if self.max_invoices:
            issued = len(self.invoice_ids.filtered(lambda move: move.state != 'cancel'))
            return issued + extra >= self.max_invoices
        return False

    def _get_period_label(self, number):
        """How the period is written on the invoice lines, in the customer's language."""
        start, end, _billing_date = self._get_period(number)
        lang = self.partner_id.lang or self.env.lang
        if start.day == 1 and end == start + relativedelta(months=1, days=-1):
            return format_date(self.env, start, lang_code=lang, date_format='MMMM y').capitalize()
        return self.env._(
            "%(start)s to %(end)s",
            start=format_date(self.env, start, lang_code=lang), end=format_date(self.env, end, lang_code=lang))

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: generation
    # -------------------------------------------------------------------------

    def _prepare_invoice_vals(self, number):
        self.ensure_one()
        start, end, billing_date = self._get_period(number)
        label = self._get_period_label(number)
        vals = {
            'move_type': 'out_invoice',
            'partner_id': self.partner_id.id,
            'company_id': self.company_id.id,
            'journal_id': self.journal_id.id,
            'currency_id': self.currency_id.id,
            'invoice_date': billing_date,
            'invoice_origin': self.name,
            'invoice_payment_term_id': self.payment_term_id.id,
            'auto_post': 'no',  # never also a core recurring entry: this schedule is the only one to repeat it
            'recurring_id': self.id,
            'recurring_period_start': start,
            'recurring_period_end': end,
            'invoice_line_ids': [
                Command.create(line._prepare_invoice_line_vals(label)) for line in self.line_ids],
        }
        if self.followup_policy_id:
            vals.update(followup_policy_id=self.followup_policy_id.id, followup_policy_manual=True)
        return vals

    def _generate_next(self, today):
        """Bill the next period of this (locked) schedule when it is due on ``today``.

        The invoice, its posting, its e-mail (queued) and the move to the next period happen in one transaction.
        :return: the invoice, True when the period was already billed (nothing created), or False when nothing is
                 due.
        """
        self.ensure_one()
        number = self.next_period_number
        if self._is_finished(number):
            self.state = 'done'
            return False
        start, _end, billing_date = self._get_period(number)
        if billing_date > today:
            return False
        Move = self.env['account.move']
        existing = Move.search_count([
            ('recurring_id', '=', self.id), ('recurring_period_start', '=', start), ('state', '!=', 'cancel'),
        ], limit=1)
        move = Move if existing else self._create_invoice(number)
        self.next_period_number = number + 1
        if self.error_message:
            self.error_message = False
            self._clear_error_activities()
        if self._is_finished(number + 1):
            self.state = 'done'
            self.message_post(body=self.env._("Last period billed: the recurring invoice is done."))
        return move or True

    def _create_invoice(self, number):
        self.ensure_one()
        if not self.line_ids:
            raise UserError(self.env._("“%(name)s” has no line to bill.", name=self.name))
        move = self.env['account.move'].with_context(default_move_type='out_invoice').create(
            self._prepare_invoice_vals(number))
        move.message_post(body=self.env._(
            "Generated by the recurring invoice %(link)s.", link=self._get_html_link()))
        if self.auto_post:
            move.action_post()
            if self.auto_send:
                self._send_invoice(move)
        return move

    def _send_invoice(self, move):
        """Odoo's own invoice sending: the PDF is rendered and attached, the invoice is marked sent, the e-mail
        goes through the mail queue (after commit)."""
        custom = {'sending_methods': {'email'}}
        if self.mail_template_id:
            custom['mail_template'] = self.mail_template_id
        self.env['account.move.send'].with_context(mail_notify_force_send=False)._generate_and_send_invoices(
            move, from_cron=True, **custom)
        if not move.is_move_sent:
            raise UserError(self.env._(
                "Invoice %(invoice)s could not be sent; see its chatter.", invoice=move.display_name))

    def _mark_failed(self, error):
        """Record the error and ask a person to look: the schedule leaves the daily run until it is resumed."""
        self.ensure_one()
        message = str(error.args[0]) if isinstance(error, UserError) and error.args else str(error)
        self.error_message = message
        self.message_post(body=self.env._("Recurring invoice failed: %(error)s", error=message))
        todo = self.env.ref('mail.mail_activity_data_todo')
        if not self.activity_ids.filtered(lambda activity: activity.activity_type_id == todo):
            self.activity_schedule(
                'mail.mail_activity_data_todo',
                summary=self.env._("Recurring invoice failed"),
                note=message,
                user_id=self.user_id.id or self.env.uid,
            )
        self._open_exception(message)

    def _open_exception(self, message):
        """Hook: open an exceptions case for a person. Extended once the exceptions model exists (issue 3)."""
        return False

    def _clear_error_activities(self):
        todo = self.env.ref('mail.mail_activity_data_todo')
        self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == todo
            and activity.summary == self.env._("Recurring invoice failed")).unlink()

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _get_due_domain(self, company, today):
        return (
            Domain('state', '=', 'running')
            & Domain('error_message', '=', False)
            & Domain('next_invoice_date', '<=', today)
            & Domain('company_id', '=', company.id)
        )

    @api.model
    def _cron_generate_recurring(self, batch_size=None):
        """Daily: bill every period that is due, one schedule per transaction (one commit per invoice), by
        company. Missed days catch up one invoice per missed period."""
        cron = self.env['ir.cron']
        batch_size = batch_size or int(
            self.env['ir.config_parameter'].sudo().get_param('invoice_followup.batch_size', 200)) or 200
        companies = self.env['res.company'].browse({
            company.id for [company] in self._read_group(
                [('state', '=', 'running'), ('error_message', '=', False), ('next_invoice_date', '!=', False)],
                ['company_id'])
        })
        work = [(company, company._followup_today()) for company in companies]
        remaining = sum(self.search_count(self._get_due_domain(company, today)) for company, today in work)
        cron._commit_progress(remaining=remaining)
        generated = False
        for company, today in work:
            result = self.with_company(company)._generate_batch(company, today, batch_size)
            generated = generated or result['generated']
            if result['stop']:
                break
        if generated:
            self.env.ref('mail.ir_cron_mail_scheduler_action')._trigger()

    def _generate_batch(self, company, today, batch_size):
        cron = self.env['ir.cron']
        domain = self._get_due_domain(company, today)
        result = {'generated': False, 'stop': False}
        last_id = 0
        while True:
            # Walk by id so that schedules left for later (locked elsewhere) are not picked again in this run.
            schedules = self.search(domain & Domain('id', '>', last_id), order='id', limit=batch_size)
            if not schedules:
                return result
            last_id = schedules.ids[-1]
            for schedule_id in schedules.ids:
                outcome = self._cron_process_one(self.browse(schedule_id), domain, today)
                result['generated'] = result['generated'] or outcome == 'generated'
                if outcome == 'stop':
                    result['stop'] = True
                    return result
                if outcome == 'locked':
                    continue
                if not cron._commit_progress(1):
                    result['stop'] = True
                    return result

    def _cron_process_one(self, schedule, domain, today):
        """Every due period of one schedule, one transaction (and commit) per period.

        :return: 'generated', 'nothing', 'failed', 'locked' (left for later) or 'stop' (time budget spent)
        """
        cron = self.env['ir.cron']
        outcome = 'nothing'
        while True:
            try:
                if not schedule.try_lock_for_update():
                    return 'locked' if outcome == 'nothing' else outcome
                self.env.invalidate_all()  # re-read after the lock: paused, ended or billed meanwhile?
                if not schedule.filtered_domain(domain):
                    return outcome
                if not schedule._generate_next(today):
                    return outcome
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
                self.env.cr.rollback()
                return 'locked' if outcome == 'nothing' else outcome
            except psycopg2.errors.UniqueViolation:
                # Another transaction billed this very period first: it is billed, once.
                self.env.cr.rollback()
                return outcome
            except Exception as error:  # noqa: BLE001 - one failing schedule must not stop or re-loop the batch
                self.env.cr.rollback()
                _logger.info("Recurring invoice %s failed: %s", schedule.id, error)
                schedule = self.browse(schedule.id)
                schedule._mark_failed(error)
                return 'failed'
            outcome = 'generated'
            if not cron._commit_progress():
                return 'stop'
