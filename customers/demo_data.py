"""Sample customers for the demo. Numbers are typed the way people type them, in mixed formats."""

from __future__ import annotations

DEMO_CUSTOMERS: list[dict] = [
    {
        "name": "Ayşe Yılmaz",
        "company": "Yılmaz Tekstil A.Ş.",
        "email": "ayse@yilmaztekstil.example",
        "notes": "Toptan sipariş sorumlusu. Öğleden sonra aranmayı tercih ediyor.",
        "phones": ["0532 123 45 67", "0212 555 12 34"],
    },
    {
        "name": "Mehmet Demir",
        "company": "Demir Lojistik",
        "email": "mehmet.demir@demirlojistik.example",
        "notes": "Kargo gecikmeleri için iki kez şikâyet etti.",
        "phones": ["+90 (533) 987-65-43"],
    },
    {
        "name": "Zeynep Kaya",
        "company": "Kaya Eczanesi",
        "email": "zeynep@kayaeczanesi.example",
        "notes": "Sözleşme yenileme: Aralık.",
        "phones": ["905441112233"],
    },
    {
        "name": "Can Öztürk",
        "company": "",
        "email": "can.ozturk@example.com",
        "notes": "Bireysel müşteri.",
        "phones": ["5055556677"],
    },
    {
        "name": "Elif Şahin",
        "company": "Şahin Yazılım Ltd.",
        "email": "elif@sahinyazilim.example",
        "notes": "Teknik destek paketi: Altın.",
        "phones": ["00905421239876", "0216 444 55 66"],
    },
    {
        "name": "Burak Arslan",
        "company": "Arslan Otomotiv",
        "email": "burak@arslanoto.example",
        "notes": "",
        "phones": ["0 850 259 90 29"],
    },
    {
        "name": "Selin Çelik",
        "company": "Yılmaz Tekstil A.Ş.",
        "email": "selin@yilmaztekstil.example",
        "notes": "Muhasebe. Ortak santral hattını kullanıyor.",
        "phones": ["0212 555 12 34"],
    },
]

# Username → (password, role). Demo only: the demo binds to 127.0.0.1.
DEMO_USERS: dict[str, tuple[str, str]] = {
    "agent": ("agent-demo", "agent"),
    "supervisor": ("supervisor-demo", "supervisor"),
    "admin": ("admin-demo", "admin"),
}
