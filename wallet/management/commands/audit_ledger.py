from django.core.management.base import BaseCommand, CommandError

from wallet.audit import wallet_audit


class Command(BaseCommand):
    help = (
        "Replay every wallet's ledger and compare it with the wallet's balance, demo minutes, totals "
        "and open holds. Prints each mismatch; exits non-zero when there is one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--wallet", type=int, action="append", dest="wallet_ids", help="Only this wallet id.")

    def handle(self, *args, wallet_ids: list[int] | None = None, **options) -> None:
        audit = wallet_audit(wallet_ids=wallet_ids)
        for mismatch in audit.mismatches:
            self.stdout.write(
                f"wallet {mismatch.wallet_id} ({mismatch.user_email}): {mismatch.figure} is {mismatch.recorded}, "
                f"its ledger says {mismatch.replayed}"
            )
        summary = f"{audit.wallets_checked} wallets, {audit.lines_replayed} ledger lines checked"
        if audit.mismatches:
            wallets = len({mismatch.wallet_id for mismatch in audit.mismatches})
            raise CommandError(f"{summary}: {len(audit.mismatches)} mismatches in {wallets} wallets.")
        self.stdout.write(self.style.SUCCESS(f"{summary}: no mismatch."))
