from django.core.management.base import BaseCommand, CommandError

from wallet.audit import wallet_audit, wallet_audit_run


class Command(BaseCommand):
    help = (
        "Replay every wallet's ledger and compare it with the wallet's balance, demo minutes, totals "
        "and open holds. Prints each mismatch; exits non-zero when there is one. A run over every "
        "wallet is kept for the operations dashboard."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--wallet", type=int, action="append", dest="wallet_ids", help="Only this wallet id.")

    def handle(self, *args, wallet_ids: list[int] | None = None, **options) -> None:
        if wallet_ids:
            audit = wallet_audit(wallet_ids=wallet_ids)
            mismatches, summary = [str(mismatch) for mismatch in audit.mismatches], audit.summary
        else:
            run = wallet_audit_run()
            mismatches, summary = run.report.splitlines(), run.summary
        for line in mismatches:
            self.stdout.write(line)
        if mismatches:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
