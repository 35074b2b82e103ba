"""Sentences as a transcript has them, each with the identifiers it holds (kind and the words that say
it), in three forms: written digits and symbols, spoken words, and near-misses that hold none."""

from dataclasses import dataclass

from redaction.entities import Entity

E, P, A, C = Entity.EMAIL_ADDRESS, Entity.PHONE_NUMBER, Entity.AADHAAR, Entity.CREDIT_CARD
U, IP, N, G = Entity.UPI_ID, Entity.IP_ADDRESS, Entity.PAN, Entity.GSTIN


@dataclass(frozen=True)
class Sample:
    text: str
    identifiers: tuple[tuple[Entity, str], ...] = ()

    def missed(self, redacted: str) -> list[str]:
        """The identifiers of which `redacted` (this sentence redacted) keeps a word: a word of the
        identifier that the sentence has nowhere else."""
        expected = self.text
        for entity, said in self.identifiers:
            expected = expected.replace(said, entity.label)
        elsewhere, kept = _words(expected), _words(redacted)
        return [
            said for _, said in self.identifiers if (_words(said) - elsewhere) & kept or not _words(said) - elsewhere
        ]


def _words(text: str) -> set[str]:
    return {word.strip(".,:;!?").lower() for word in text.split()} - {""}


WRITTEN = [
    Sample("My mobile number is 98450 12345, call me after six.", ((P, "98450 12345"),)),
    Sample("You can also try +91 70123 45678 on weekends.", ((P, "+91 70123 45678"),)),
    Sample("The office landline is 080 4123 4567.", ((P, "080 4123 4567"),)),
    Sample("Reach him on +1 415 555 2671 in California.", ((P, "+1 415 555 2671"),)),
    Sample("Call 7012345678 or 6361234567 after lunch.", ((P, "7012345678"), (P, "6361234567"))),
    Sample("Her number is +91-98450-12345.", ((P, "+91-98450-12345"),)),
    Sample("My Aadhaar number is 7260 1815 9082.", ((A, "7260 1815 9082"),)),
    Sample("Aadhaar: 501661318603.", ((A, "501661318603"),)),
    Sample("Card number 4993 5181 9093 7864, expiry next year.", ((C, "4993 5181 9093 7864"),)),
    Sample("The Amex is 378225276018956.", ((C, "378225276018956"),)),
    Sample("Use the RuPay card 6521-4875-7491-1869 for this.", ((C, "6521-4875-7491-1869"),)),
    Sample("My PAN is ABCPE1234F.", ((N, "ABCPE1234F"),)),
    Sample("Our GSTIN is 27ABCPE1234F1ZB for the filing.", ((G, "27ABCPE1234F1ZB"),)),
    Sample("GST number 29AAGCR4375J1ZU, please note.", ((G, "29AAGCR4375J1ZU"),)),
    Sample("Email me at rahul.sharma@gmail.com today.", ((E, "rahul.sharma@gmail.com"),)),
    Sample("Send the statement to accounts@acme.co.in please.", ((E, "accounts@acme.co.in"),)),
    Sample("Pay to priya@okicici or 9845012345@ybl.", ((U, "priya@okicici"), (U, "9845012345@ybl"))),
    Sample("The server is 192.168.1.20 and the gateway is fe80::1.", ((IP, "192.168.1.20"), (IP, "fe80::1"))),
]

SPOKEN = [
    Sample(
        "my number is nine eight four five zero one two three four five",
        ((P, "nine eight four five zero one two three four five"),),
    ),
    Sample(
        "call me on double nine eight four five one two three four five",
        ((P, "double nine eight four five one two three four five"),),
    ),
    Sample(
        "plus nine one seven zero one two three four five six seven eight",
        ((P, "plus nine one seven zero one two three four five six seven eight"),),
    ),
    Sample(
        "it is ninety eight forty five zero one two three four five okay",
        ((P, "ninety eight forty five zero one two three four five"),),
    ),
    Sample(
        "reach me at seven oh one two three four five six seven eight",
        ((P, "seven oh one two three four five six seven eight"),),
    ),
    Sample(
        "phone is nine eight four five zero, one two three four five.",
        ((P, "nine eight four five zero, one two three four five"),),
    ),
    Sample("it's 9 8 4 5 0 1 2 3 4 5 on WhatsApp", ((P, "9 8 4 5 0 1 2 3 4 5"),)),
    Sample(
        "ninety-eight forty-five zero, one two three, four five.",
        ((P, "ninety-eight forty-five zero, one two three, four five"),),
    ),
    Sample(
        "so nine eight four five zero one two three four five one more time",
        ((P, "nine eight four five zero one two three four five"),),
    ),
    Sample(
        "mera number hai nau aath chaar paanch shunya ek do teen chaar paanch",
        ((P, "nau aath chaar paanch shunya ek do teen chaar paanch"),),
    ),
    Sample(
        "my aadhaar is seven two six zero one eight one five nine zero eight two",
        ((A, "seven two six zero one eight one five nine zero eight two"),),
    ),
    Sample(
        "aadhaar five oh one double six one three one eight six oh three",
        ((A, "five oh one double six one three one eight six oh three"),),
    ),
    Sample(
        "four nine nine three, five one eight one, nine zero nine three, seven eight six four is the card",
        ((C, "four nine nine three, five one eight one, nine zero nine three, seven eight six four"),),
    ),
    Sample(
        "card number four nine nine three five one eight one nine zero nine three seven eight six four",
        ((C, "four nine nine three five one eight one nine zero nine three seven eight six four"),),
    ),
    Sample(
        "the amex is three seven eight two two five two seven six zero one eight nine five six",
        ((C, "three seven eight two two five two seven six zero one eight nine five six"),),
    ),
    Sample("email is rahul dot sharma at gmail dot com", ((E, "rahul dot sharma at gmail dot com"),)),
    Sample("mail r dot k dot singh at outlook dot com", ((E, "r dot k dot singh at outlook dot com"),)),
    Sample("it's rahul sharma at gmail dot com", ((E, "sharma at gmail dot com"),)),
    Sample("write to priya underscore k at yahoo dot co dot in", ((E, "priya underscore k at yahoo dot co dot in"),)),
    Sample(
        "my id is anita one two three at the rate gmail dot com",
        ((E, "anita one two three at the rate gmail dot com"),),
    ),
    Sample("send money to priya at okicici", ((U, "priya at okicici"),)),
    Sample(
        "UPI is nine eight four five zero one two three four five at ybl",
        ((U, "nine eight four five zero one two three four five at ybl"),),
    ),
    Sample(
        "the IP is one nine two dot one six eight dot one dot twenty",
        ((IP, "one nine two dot one six eight dot one dot twenty"),),
    ),
    Sample("PAN is A B C P E one two three four F", ((N, "A B C P E one two three four F"),)),
    Sample(
        "GSTIN two seven A B C P E one two three four F one Z B",
        ((G, "two seven A B C P E one two three four F one Z B"),),
    ),
]

NEAR_MISSES = [
    Sample("I paid ₹500 for the tickets and 1500 rupees for dinner."),
    Sample("The order number is 9845012345 and it ships tomorrow."),
    Sample("Invoice 726018159082 was raised in March 2024."),
    Sample("Ticket 4111 1111 1111 1111 is confirmed."),
    Sample("Transaction ID 6011000990139424 failed."),
    Sample("We met at 10:30 on 12/05/2024 and again on 2024-06-01."),
    Sample("Aadhaar 7260 1815 9083 was rejected."),
    Sample("Card 4993 5181 9093 7865 is declined."),
    Sample("PAN ABCQE1234F is not valid."),
    Sample("GSTIN 07AAACN9967E1Z6 has a typo."),
    Sample("The population was 1,40,00,00,000 in 2023."),
    Sample("Call 12345 now, or dial 1800 123 4567 toll free."),
    Sample("He scored 98 out of 100 in 2019 and 87 in 2020."),
    Sample("Meet me at the office dot com building."),
    Sample("Look at google dot com for it."),
    Sample("Version 2.4.1 is installed on 3 servers."),
    Sample("It costs Rs. 9,845 and delivery is 40 rupees."),
    Sample("The flight is at nine forty five and lands at eleven ten."),
    Sample("Nineteen ninety eight was a good year, and two thousand twenty four too."),
    Sample("My pin code is 560001 and the house number is 42."),
    Sample("Call me at 98450 1234."),
    Sample("Email me at rahul dot sharma."),
    Sample("I'll meet rahul at home tonight."),
    Sample("My Aadhaar starts with 1234 5678 9012."),
    Sample("The score was 4-3 on 12-05-2024."),
    Sample("The address 256.1.1.1 is not one."),
    Sample("aadhaar seven two six zero one eight one five nine zero eight three"),
    Sample("card four nine nine three five one eight one nine zero nine three seven eight six five"),
    Sample("the total is nine eight four five zero rupees"),
    Sample("we sold one two three four five six seven eight nine units in all"),
]

# Hindi, as Whisper writes it: digits in Devanagari (or ASCII in a Devanagari sentence), and digits
# said one by one in Hindi, written as Devanagari words or romanised (Hinglish).
HINDI_WRITTEN = [
    Sample("मेरा मोबाइल नंबर ९८४५० १२३४५ है, छह बजे के बाद कॉल करें।", ((P, "९८४५० १२३४५"),)),
    Sample("आप +९१ ७०१२३ ४५६७८ पर भी कॉल कर सकते हैं।", ((P, "+९१ ७०१२३ ४५६७८"),)),
    Sample("मेरा नंबर 63612 34567 है।", ((P, "63612 34567"),)),
    Sample("मेरा आधार नंबर ७२६० १८१५ ९०८२ है।", ((A, "७२६० १८१५ ९०८२"),)),
    Sample("Aadhaar ५०१६६१३१८६०३ hai.", ((A, "५०१६६१३१८६०३"),)),
    Sample("कार्ड नंबर ४९९३ ५१८१ ९०९३ ७८६४ है।", ((C, "४९९३ ५१८१ ९०९३ ७८६४"),)),
    Sample("पैन ABCPE1234F है और GSTIN 27ABCPE1234F1ZB है।", ((N, "ABCPE1234F"), (G, "27ABCPE1234F1ZB"))),
    Sample("मेरा ईमेल rahul.sharma@gmail.com है।", ((E, "rahul.sharma@gmail.com"),)),
]

HINDI_SPOKEN = [
    Sample(
        "मेरा नंबर है नौ आठ चार पाँच शून्य एक दो तीन चार पाँच।",
        ((P, "नौ आठ चार पाँच शून्य एक दो तीन चार पाँच"),),
    ),
    Sample(
        "मुझे डबल नौ आठ चार पांच एक दो तीन चार पांच पर कॉल करो",
        ((P, "डबल नौ आठ चार पांच एक दो तीन चार पांच"),),
    ),
    Sample(
        "प्लस नौ एक सात ज़ीरो एक दो तीन चार पाँच छह सात आठ",
        ((P, "प्लस नौ एक सात ज़ीरो एक दो तीन चार पाँच छह सात आठ"),),
    ),
    Sample(
        "मेरा आधार सात दो छह शून्य एक आठ एक पाँच नौ शून्य आठ दो है",
        ((A, "सात दो छह शून्य एक आठ एक पाँच नौ शून्य आठ दो"),),
    ),
    Sample(
        "आधार पाँच शून्य एक डबल छह एक तीन एक आठ छः शून्य तीन",
        ((A, "पाँच शून्य एक डबल छह एक तीन एक आठ छः शून्य तीन"),),
    ),
    Sample(
        "कार्ड नंबर चार नौ नौ तीन पाँच एक आठ एक नौ शून्य नौ तीन सात आठ छह चार",
        ((C, "चार नौ नौ तीन पाँच एक आठ एक नौ शून्य नौ तीन सात आठ छह चार"),),
    ),
    Sample(
        "number hai saat shunya ek do teen chaar paanch chhe saat aath, ek baar likh lo",
        ((P, "saat shunya ek do teen chaar paanch chhe saat aath"),),
    ),
    Sample(
        "mera number double nau aath char panch ek do teen char panch hai",
        ((P, "double nau aath char panch ek do teen char panch"),),
    ),
    Sample(
        "aadhaar number saat do chhe shunya ek aath ek paanch nau shunya aath do hai",
        ((A, "saat do chhe shunya ek aath ek paanch nau shunya aath do"),),
    ),
    Sample(
        "card char nau nau teen paanch ek aath ek nau zero nau teen saat aath chhe char hai",
        ((C, "char nau nau teen paanch ek aath ek nau zero nau teen saat aath chhe char"),),
    ),
    Sample(
        "UPI hai nau aath chaar paanch shunya ek do teen chaar paanch at ybl",
        ((U, "nau aath chaar paanch shunya ek do teen chaar paanch at ybl"),),
    ),
    # Numbers said two digits at a time in Hindi ("अट्ठानवे" is 98): not read.
    Sample("मेरा नंबर अट्ठानवे पैंतालीस शून्य बारह चौंतीस पैंतालीस है", ((P, "अट्ठानवे पैंतालीस शून्य बारह चौंतीस पैंतालीस"),)),
]

HINDI_NEAR_MISSES = [
    Sample("मैंने ५०० रुपये दिए और टिकट १५०० रुपये का था।"),
    Sample("ऑर्डर नंबर ९८४५०१२३४५ है, कल डिलीवरी होगी।"),
    Sample("आधार ७२६० १८१५ ९०८३ रिजेक्ट हो गया।"),
    Sample("कार्ड ४९९३ ५१८१ ९०९३ ७८६५ डिक्लाइन हुआ।"),
    Sample("मैं २०१९ में दिल्ली आया और २०२३ में बेंगलुरु गया।"),
    Sample("मेरा नंबर ९८४५० १२३४ है।"),
    Sample("कुल नौ आठ चार पाँच शून्य रुपये हुए"),
    Sample("टिकट नंबर नौ आठ चार पाँच शून्य एक दो तीन चार छह है"),
    Sample("ticket number nau aath chaar paanch shunya ek do teen chaar chhe hai"),
    Sample("aadhaar saat do chhe shunya ek aath ek paanch nau shunya aath teen"),
    Sample("mujhe do minute do, main ek baar aur teen baje call karunga"),
    Sample("ek do teen char paanch chhe saat aath nau, sab ready?"),
    Sample("do kilo aata, teen packet doodh aur ek darjan ande lana"),
    Sample("total paanch lakh do hazaar rupaye hua"),
    Sample("I do need two, do you have them?"),
]
