# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The batching both crons share (reminders and recurring invoices): per company, in its own context and
timezone, records walked by id in batches, one record per transaction, progress committed after each."""

import logging

import psycopg2.errors
from psycopg2 import errorcodes

from odoo.fields import Domain
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Conflicts with another transaction or a server limit: the same work succeeds when tried again later.
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected, psycopg2.errors.LockNotAvailable,
    psycopg2.errors.QueryCanceled,  # statement or lock timeout
)
TRANSIENT_CODES = {errorcodes.SERIALIZATION_FAILURE, errorcodes.DEADLOCK_DETECTED, errorcodes.LOCK_NOT_AVAILABLE,
                   errorcodes.QUERY_CANCELED, errorcodes.IN_FAILED_SQL_TRANSACTION}


def is_transient(error):
    """Whether ``error`` is a conflict or timeout to retry, not a fault a person must fix."""
    while error is not None:
        if isinstance(error, TRANSIENT_ERRORS) or getattr(error, 'pgcode', None) in TRANSIENT_CODES:
            return True
        error = error.__cause__ or error.__context__
    return False


def violates(error, index_name):
    """Whether ``error`` is the unique violation of ``index_name`` (and not of any other index)."""
    return isinstance(error, psycopg2.errors.UniqueViolation) and bool(
        error.diag and error.diag.constraint_name and index_name in error.diag.constraint_name)


def run_per_company(model, companies, due_domain, run_company):
    """Report the work of every company once, then run each in its own context.

    :param due_domain: callable (company, today) -> Domain of the records due
    :param run_company: callable (model with the company, company, today) -> False when the time budget is spent
    :return: False when the cron's time budget ran out before every company was done
    """
    work = [(company, company._followup_today()) for company in companies]
    remaining = sum(model.search_count(due_domain(company, today)) for company, today in work)
    model.env['ir.cron']._commit_progress(remaining=remaining)
    return all(run_company(model.with_company(company), company, today) for company, today in work)


def run_in_batches(model, domain, batch_size, process_one, prepare=None, by_batch=False):
    """Walk the records of ``domain`` by id, ``batch_size`` at a time, so that a record left for later (locked by
    someone else) is not picked again in this run.

    :param process_one: callable (record, prepared) -> False when the record was left for later; otherwise it
        counts as processed and the progress is committed. With ``by_batch``: callable (batch) -> the number of
        records processed, and the progress is committed once per batch
    :param prepare: optional callable (batch) -> what the batch's records share (e.g. their PDFs)
    :return: False when the cron's time budget is spent
    """
    cron = model.env['ir.cron']
    last_id = 0
    while True:
        batch = model.search(Domain(domain) & Domain('id', '>', last_id), order='id', limit=batch_size)
        if not batch:
            return True
        last_id = batch.ids[-1]
        if by_batch:
            if not cron._commit_progress(process_one(batch)):
                return False
            continue
        prepared = prepare(batch) if prepare else None
        for record_id in batch.ids:
            if process_one(model.browse(record_id), prepared) and not cron._commit_progress(1):
                return False


def lock_rows(records, allow_referencing=False, claim=False):
    """The records this transaction locks, skipping those another transaction holds (``try_lock_for_update``).

    Run it first in a transaction: under REPEATABLE READ a row changed by a transaction committed after this one's
    snapshot cannot be locked. PostgreSQL raises a serialization failure then, not logged here as an error: the
    caller leaves the records to whoever changed them (``run_isolated`` does).

    :param claim: also give the rows a new version (values unchanged). A lock alone does not tell a transaction
        that started before the previous holder committed what that holder wrote elsewhere (a log row, a PDF):
        with every holder claiming the rows, such a transaction fails to lock them instead of acting twice.
    """
    if not records:
        return records
    table = SQL.identifier(records._table)
    mode = SQL("FOR NO KEY UPDATE SKIP LOCKED") if allow_referencing else SQL("FOR UPDATE SKIP LOCKED")
    query = SQL("SELECT id FROM %s WHERE id IN %s %s", table, tuple(records.ids), mode)
    if claim:
        query = SQL("UPDATE %s SET write_date = write_date WHERE id IN (%s) RETURNING id", table, query)
    records.env.cr.execute(query, log_exceptions=False)
    locked = {row_id for (row_id,) in records.env.cr.fetchall()}
    return records.filtered(lambda record: record.id in locked)


def run_isolated(env, work, on_failure, label, done_index=None):
    """Run ``work()`` as one record's transaction; on error roll it back, so nothing is left half-done.

    - a conflict with a concurrent transaction or a timeout (``is_transient``), or ``work()`` returning False:
      False (the record is left for later), and the transaction ends, so that the next record sees what others
      committed;
    - a violation of ``done_index``: a concurrent run did this very work first, so it is done: True;
    - any other error: ``on_failure(error)`` records it in a fresh transaction (the record leaves the due
      list: no re-loop) and the batch goes on: True. Should recording the failure fail too, it is logged and the
      record is left for the next run: the failure path never aborts the run.
    :return: what ``work()`` returned otherwise
    """
    try:
        if (done := work()) is False:
            env.cr.rollback()  # nothing was written: only the lock attempt
        return done
    except Exception as error:  # noqa: BLE001 - one failing record must not stop or re-loop the batch
        env.cr.rollback()
        if is_transient(error):
            _logger.info("%s left for later: %s", label, error)
            return False
        if done_index and violates(error, done_index):
            return True
        _logger.info("%s failed: %s", label, error)  # on_failure logs it as a warning, with what failed
        try:
            on_failure(error)
        except Exception:  # noqa: BLE001
            env.cr.rollback()
            _logger.exception("%s: the failure could not be recorded; retried on the next run", label)
            return False
        return True
