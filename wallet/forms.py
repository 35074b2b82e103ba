from django import forms


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, initial=0, help_text="Rupees to add to the balance; negative to take away."
    )
    demo_minutes = forms.DecimalField(
        max_digits=10, decimal_places=2, initial=0, help_text="Demo minutes to add; negative to take away."
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea, help_text="Kept on the ledger line.")

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("amount") == 0 and data.get("demo_minutes") == 0:
            raise forms.ValidationError("Change the balance, the demo minutes, or both.")
        return data


class RefundForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea, help_text="Kept on the ledger line.")
