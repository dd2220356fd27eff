"""Deterministic synthetic example data for Kota Pontianak.

:func:`generate_dataset` builds a whole :class:`~mutasi_rules.data.models.Dataset`: the city's
OPD, its six kecamatan with their 29 kelurahan, bidang / UPT / puskesmas / schools scaled
mildly with the requested size, positions with requirements and workload tasks, and
employees with consistent NIPs, ranks, education, careers, trainings and performance.

The data carry deliberate imbalances so that the recommender has something to do:

* Dinas Kesehatan and its puskesmas are short of staff because of the vaccination
  programme: positions serving ``vaksinasi`` require the training ``Pelatihan Vaksinator``
  and have EJ around 1.3-1.8; perawat, bidan and dokter need the certificate ``STR``.
* Sekretariat Daerah, Disdukcapil and Dinas Perhubungan have surplus pelaksana staff
  (EJ 0.5-0.8). Some of those people studied nursing, midwifery or public health, a few
  hold an STR, most lack ``Pelatihan Vaksinator``: candidates who could fill the Dinkes
  shortage after training.

Determinism: every random choice comes from one ``random.Random(seed)``; nothing reads
the wall clock; units, positions and employees keep their construction order. The same
arguments therefore give a byte-identical :func:`~mutasi_rules.core.canonical.canonical_json`.
All names are invented by combining common given names; no real person's data are used.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mutasi_rules.data.facts import add_months, add_years
from mutasi_rules.data.models import (
    CompetencyKind,
    Dataset,
    EducationLevel,
    EmployeeStatus,
    Gender,
    Golongan,
    JabatanKind,
    JabatanLevel,
    Predikat,
    SanctionLevel,
    UnitKind,
    retirement_age,
)

__all__ = [
    "CERT_PENDIDIK",
    "CERT_STR",
    "DATASET_NAME",
    "KALIMANTAN_BARAT",
    "MIN_EMPLOYEES",
    "PROGRAMME_VAKSINASI",
    "SHORTAGE_OPD",
    "SURPLUS_OPD",
    "TRAINING_VAKSINATOR",
    "GeneratedRegion",
    "generate_dataset",
    "generate_regions",
    "region_sizes",
]

DATASET_NAME = "Kota Pontianak (contoh sintetis)"
MIN_EMPLOYEES = 150
EFFECTIVE_HOURS = 1250.0

TRAINING_VAKSINATOR = "Pelatihan Vaksinator"
CERT_STR = "STR"
CERT_PENDIDIK = "Sertifikat Pendidik"
CERT_PBJ = "Sertifikat Kompetensi Pengadaan Barang/Jasa"
PROGRAMME_VAKSINASI = "vaksinasi"

#: OPD whose pelaksana positions are generated with surplus capacity (EJ 0.5-0.8).
SURPLUS_OPD = ("setda", "disdukcapil", "dishub")
#: OPD (with their sub-units) generated short of staff.
SHORTAGE_OPD = ("dinkes",)

G = Golongan
E = EducationLevel
K = JabatanKind
L = JabatanLevel
CK = CompetencyKind

# Entry rank on appointment by education (PP 99/2000 as amended) and the highest rank a
# person with that education normally reaches.
ENTRY_RANK: dict[EducationLevel, Golongan] = {
    E.SD: G.I_A, E.SMP: G.I_C, E.SMA: G.II_A, E.D1: G.II_A, E.D2: G.II_B,
    E.D3: G.II_C, E.D4: G.III_A, E.S1: G.III_A, E.S2: G.III_B, E.S3: G.III_C,
}
RANK_CAP: dict[EducationLevel, Golongan] = {
    E.SD: G.II_A, E.SMP: G.II_D, E.SMA: G.III_D, E.D1: G.III_D, E.D2: G.III_D,
    E.D3: G.III_D, E.D4: G.IV_E, E.S1: G.IV_E, E.S2: G.IV_E, E.S3: G.IV_E,
}
# OrderedEnum.ordinal scans the enum; these lookups keep 100,000 employees fast.
RANKS: tuple[Golongan, ...] = tuple(Golongan)
RANK_ORD: dict[Golongan, int] = {g: i + 1 for i, g in enumerate(RANKS)}
EDU_ORD: dict[EducationLevel, int] = {lv: i + 1 for i, lv in enumerate(EducationLevel)}
# Youngest plausible age (years) at appointment with each education.
MIN_AGE_AT_TMT: dict[EducationLevel, float] = {
    E.SD: 18.0, E.SMP: 18.0, E.SMA: 18.0, E.D1: 19.0, E.D2: 20.0,
    E.D3: 21.0, E.D4: 22.0, E.S1: 22.0, E.S2: 24.5, E.S3: 28.0,
}

# --------------------------------------------------------------------------- templates

Comp = tuple[str, CompetencyKind, int]
Task = tuple[str, float]


@dataclass(frozen=True)
class Template:
    """A kind of position; a unit profile instantiates templates into positions."""

    key: str
    name: str  # "{unit}" is replaced by the unit's name
    kind: JabatanKind
    level: JabatanLevel | None
    kelas: int
    min_rank: Golongan | None
    max_rank: Golongan | None
    min_education: EducationLevel
    edu_levels: tuple[tuple[EducationLevel, float], ...]
    fields: tuple[str, ...] = ()
    competencies: tuple[Comp, ...] = ()
    trainings: tuple[str, ...] = ()
    certificates: tuple[str, ...] = ()
    tasks: tuple[Task, ...] = ()
    programmes: tuple[str, ...] = ()
    family: str = ""  # career family, for position history
    female_share: float = 0.5
    pppk_share: float = 0.0
    cpns_share: float = 0.0

    @property
    def bup(self) -> int:
        return retirement_age(self.kind, self.level)


def _managerial(level: int) -> tuple[Comp, ...]:
    """Managerial and socio-cultural competencies (PermenPANRB 38/2017) at one level."""
    names = ("Integritas", "Kerja Sama", "Komunikasi", "Orientasi pada Hasil", "Pelayanan Publik")
    chosen = names if level >= 3 else names[:1] + names[4:]
    return (*tuple((n, CK.MANAJERIAL, level) for n in chosen), ("Perekat Bangsa", CK.SOSIAL_KULTURAL, level))


LEADERSHIP_TRAINING = {
    K.JPT: "Pelatihan Kepemimpinan Nasional Tingkat II",
    K.ADMINISTRATOR: "Pelatihan Kepemimpinan Administrator",
    K.PENGAWAS: "Pelatihan Kepemimpinan Pengawas",
}

HEAD_TASKS: dict[JabatanKind, tuple[Task, ...]] = {
    K.JPT: (
        ("Merumuskan kebijakan teknis perangkat daerah", 480),
        ("Memimpin rapat koordinasi", 120),
        ("Menandatangani naskah dinas", 10),
        ("Mengevaluasi kinerja perangkat daerah", 900),
    ),
    K.ADMINISTRATOR: (
        ("Menyusun program kerja", 480),
        ("Mengendalikan pelaksanaan kegiatan", 120),
        ("Memverifikasi dokumen dan naskah dinas", 20),
        ("Menyusun laporan kinerja", 600),
    ),
    K.PENGAWAS: (
        ("Membagi dan memeriksa pekerjaan bawahan", 30),
        ("Menyiapkan bahan kebijakan teknis", 240),
        ("Melayani dan menandatangani surat", 15),
        ("Menyusun laporan kegiatan", 240),
    ),
}


def structural(
    key: str, name: str, kind: JabatanKind, kelas: int, min_rank: Golongan, max_rank: Golongan,
    *, min_education: EducationLevel = E.S1, fields: tuple[str, ...] = (), tasks: tuple[Task, ...] = (),
    female_share: float = 0.35,
) -> Template:
    level = L.PRATAMA if kind is K.JPT else None
    manag = {K.JPT: 4, K.ADMINISTRATOR: 3, K.PENGAWAS: 3}[kind]
    edu = ((E.S1, 0.45), (E.S2, 0.5), (E.S3, 0.05)) if kind is not K.PENGAWAS else ((E.S1, 0.75), (E.S2, 0.25))
    if min_education is E.D3:
        edu = ((E.D3, 0.2), (E.S1, 0.6), (E.S2, 0.2))
    return Template(
        key=key, name=name, kind=kind, level=level, kelas=kelas, min_rank=min_rank, max_rank=max_rank,
        min_education=min_education, edu_levels=edu, fields=fields,
        competencies=(("Manajemen Pemerintahan", CK.TEKNIS, manag - 1), *_managerial(manag)),
        trainings=(LEADERSHIP_TRAINING[kind],), tasks=tasks or HEAD_TASKS[kind], family=f"struktural-{kind.value}",
        female_share=female_share,
    )


def pelaksana(
    key: str, name: str, kelas: int, min_rank: Golongan, max_rank: Golongan, min_education: EducationLevel,
    tasks: tuple[Task, ...], *, fields: tuple[str, ...] = (), teknis: str = "Administrasi Perkantoran",
    certificates: tuple[str, ...] = (), female_share: float = 0.5,
) -> Template:
    edu: tuple[tuple[EducationLevel, float], ...] = {
        E.SMA: ((E.SMA, 0.55), (E.D3, 0.25), (E.S1, 0.2)),
        E.D3: ((E.D3, 0.65), (E.S1, 0.35)),
        E.S1: ((E.S1, 0.9), (E.S2, 0.1)),
    }[min_education]
    return Template(
        key=key, name=name, kind=K.PELAKSANA, level=None, kelas=kelas, min_rank=min_rank, max_rank=max_rank,
        min_education=min_education, edu_levels=edu, fields=fields,
        competencies=((teknis, CK.TEKNIS, 2), *_managerial(2)), certificates=certificates, tasks=tasks,
        family="pelaksana", female_share=female_share, pppk_share=0.06, cpns_share=0.06,
    )


# Level of a functional position -> (kelas, min rank, max rank, min education, competency level).
FUNGSIONAL_LEVELS: dict[JabatanLevel, tuple[int, Golongan, Golongan, EducationLevel, int]] = {
    L.PEMULA: (5, G.II_A, G.II_B, E.SMA, 1),
    L.TERAMPIL: (6, G.II_C, G.II_D, E.D3, 2),
    L.MAHIR: (7, G.III_A, G.III_B, E.D3, 3),
    L.PENYELIA: (8, G.III_C, G.III_D, E.D3, 3),
    L.AHLI_PERTAMA: (8, G.III_A, G.III_B, E.S1, 2),
    L.AHLI_MUDA: (9, G.III_C, G.III_D, E.S1, 3),
    L.AHLI_MADYA: (11, G.IV_A, G.IV_C, E.S1, 4),
    L.AHLI_UTAMA: (13, G.IV_D, G.IV_E, E.S2, 5),
}
LEVEL_SUFFIX = {
    L.PEMULA: "Pemula", L.TERAMPIL: "Terampil", L.MAHIR: "Mahir", L.PENYELIA: "Penyelia",
    L.AHLI_PERTAMA: "Ahli Pertama", L.AHLI_MUDA: "Ahli Muda", L.AHLI_MADYA: "Ahli Madya", L.AHLI_UTAMA: "Ahli Utama",
}
LEVEL_KEY = {
    L.PEMULA: "pemula", L.TERAMPIL: "terampil", L.MAHIR: "mahir", L.PENYELIA: "penyelia",
    L.AHLI_PERTAMA: "pertama", L.AHLI_MUDA: "muda", L.AHLI_MADYA: "madya", L.AHLI_UTAMA: "utama",
}


@dataclass(frozen=True)
class Profession:
    """A functional-position family (jabatan fungsional) across its levels."""

    key: str
    name: str
    fields: tuple[str, ...]
    teknis: tuple[str, ...]
    tasks: tuple[Task, ...]
    certificates: tuple[str, ...] = ()
    trainings: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    female_share: float = 0.5
    pppk_share: float = 0.08
    cpns_share: float = 0.07
    health: bool = False


def fungsional(prof: Profession, level: JabatanLevel, *, min_education: EducationLevel | None = None) -> Template:
    kelas, lo, hi, edu_min, comp = FUNGSIONAL_LEVELS[level]
    edu_min = min_education or edu_min
    edu: tuple[tuple[EducationLevel, float], ...]
    if edu_min is E.D3:
        edu = ((E.D3, 0.8), (E.D4, 0.05), (E.S1, 0.15))
    elif edu_min is E.SMA:
        edu = ((E.SMA, 0.7), (E.D3, 0.3))
    elif level in (L.AHLI_MADYA, L.AHLI_UTAMA):
        edu = ((E.S1, 0.45), (E.S2, 0.5), (E.S3, 0.05))
    else:
        edu = ((E.S1, 0.88), (E.S2, 0.12))
    entry_level = level in (L.PEMULA, L.TERAMPIL, L.AHLI_PERTAMA)
    return Template(
        key=f"{prof.key}-{LEVEL_KEY[level]}", name=f"{prof.name} {LEVEL_SUFFIX[level]}", kind=K.FUNGSIONAL,
        level=level, kelas=kelas, min_rank=lo, max_rank=hi, min_education=edu_min, edu_levels=edu,
        fields=prof.fields,
        competencies=(*((t, CK.TEKNIS, comp) for t in prof.teknis), *_managerial(min(comp, 3))),
        trainings=prof.trainings, certificates=prof.certificates, tasks=prof.tasks, programmes=prof.programmes,
        family=prof.key, female_share=prof.female_share,
        pppk_share=prof.pppk_share if entry_level or level is L.MAHIR else prof.pppk_share / 2,
        cpns_share=prof.cpns_share if entry_level else 0.0,
    )


def vaccination(prof: Profession) -> Profession:
    """The same profession serving the vaccination programme: needs the vaccinator training."""
    tasks = (
        ("Memberikan imunisasi dan vaksinasi", 10),
        ("Mencatat dan melaporkan cakupan imunisasi", 15),
        *prof.tasks,
    )
    if prof.key == "epidemiolog":
        tasks = (("Memantau dan menyelidiki KIPI", 120), ("Menganalisis cakupan imunisasi", 240), *prof.tasks)
    return replace(
        prof, key=f"{prof.key}-vaksin" if prof.key != "epidemiolog" else prof.key,
        trainings=(*prof.trainings, TRAINING_VAKSINATOR), programmes=(PROGRAMME_VAKSINASI,), tasks=tasks,
    )


HEALTH_FIELDS_NURSE = ("Keperawatan",)
PROF: dict[str, Profession] = {
    p.key: p
    for p in (
        Profession(
            "perawat", "Perawat", HEALTH_FIELDS_NURSE, ("Asuhan Keperawatan",),
            (("Melakukan pengkajian keperawatan", 15), ("Melaksanakan asuhan keperawatan dasar", 30),
             ("Melakukan evaluasi keperawatan", 15)),
            certificates=(CERT_STR,), female_share=0.75, pppk_share=0.14, health=True,
        ),
        Profession(
            "bidan", "Bidan", ("Kebidanan",), ("Asuhan Kebidanan",),
            (("Melakukan pemeriksaan kehamilan", 30), ("Menolong persalinan normal", 240),
             ("Melakukan kunjungan nifas", 45)),
            certificates=(CERT_STR,), female_share=1.0, pppk_share=0.14, health=True,
        ),
        Profession(
            "dokter", "Dokter", ("Kedokteran",), ("Pelayanan Medis",),
            (("Melakukan pemeriksaan dan pengobatan pasien", 15), ("Melakukan tindakan medis", 45),
             ("Merujuk pasien", 20)),
            certificates=(CERT_STR,), female_share=0.6, pppk_share=0.05, health=True,
        ),
        Profession(
            "epidemiolog", "Epidemiolog Kesehatan", ("Kesehatan Masyarakat", "Epidemiologi"),
            ("Surveilans Epidemiologi",),
            (("Melakukan surveilans penyakit menular", 60), ("Menyelidiki kejadian luar biasa", 480)),
            female_share=0.55, health=True,
        ),
        Profession(
            "penyuluh-kesmas", "Penyuluh Kesehatan Masyarakat", ("Kesehatan Masyarakat", "Promosi Kesehatan"),
            ("Promosi Kesehatan",),
            (("Melakukan penyuluhan kesehatan", 120), ("Menyusun materi promosi kesehatan", 240)),
            female_share=0.6, health=True,
        ),
        Profession(
            "sanitarian", "Sanitarian", ("Kesehatan Lingkungan", "Sanitasi"), ("Kesehatan Lingkungan",),
            (("Melakukan inspeksi kesehatan lingkungan", 90), ("Mengambil sampel air dan makanan", 45)),
            female_share=0.5, health=True,
        ),
        Profession(
            "nutrisionis", "Nutrisionis", ("Gizi",), ("Pelayanan Gizi",),
            (("Melakukan konseling gizi", 30), ("Memantau status gizi balita", 15)),
            female_share=0.85, health=True,
        ),
        Profession(
            "pranata-lab", "Pranata Laboratorium Kesehatan", ("Analis Kesehatan", "Teknologi Laboratorium Medis"),
            ("Pemeriksaan Laboratorium",),
            (("Melakukan pemeriksaan spesimen", 20), ("Memelihara alat laboratorium", 60)),
            female_share=0.7, health=True,
        ),
        Profession(
            "farmasi", "Asisten Apoteker", ("Farmasi",), ("Pelayanan Kefarmasian",),
            (("Menyiapkan dan menyerahkan obat", 10), ("Mengelola stok obat dan bahan medis", 120)),
            female_share=0.75, health=True,
        ),
        Profession(
            "apoteker", "Apoteker", ("Farmasi",), ("Pelayanan Kefarmasian",),
            (("Melakukan pengkajian resep", 10), ("Melakukan pelayanan informasi obat", 20)),
            female_share=0.7, health=True,
        ),
        Profession(
            "perekam-medis", "Perekam Medis", ("Rekam Medis dan Informasi Kesehatan",), ("Rekam Medis",),
            (("Mengolah berkas rekam medis", 8), ("Menyusun laporan morbiditas", 240)),
            female_share=0.7, health=True,
        ),
        Profession(
            "admkes", "Administrator Kesehatan", ("Kesehatan Masyarakat", "Administrasi Rumah Sakit"),
            ("Manajemen Kesehatan",),
            (("Menyusun perencanaan program kesehatan", 480), ("Mengevaluasi pelaksanaan program kesehatan", 600)),
            female_share=0.55, health=True,
        ),
        Profession(
            "guru-sd", "Guru", ("Pendidikan Guru Sekolah Dasar", "Pendidikan Agama Islam", "Pendidikan Jasmani"),
            ("Pembelajaran",),
            (("Melaksanakan pembelajaran tatap muka (jam pelajaran)", 35), ("Menyusun rencana pembelajaran", 60),
             ("Menilai hasil belajar", 20), ("Membimbing peserta didik", 30)),
            certificates=(CERT_PENDIDIK,), female_share=0.75, pppk_share=0.22, cpns_share=0.06,
        ),
        Profession(
            "guru-smp", "Guru",
            ("Pendidikan Matematika", "Pendidikan Bahasa Indonesia", "Pendidikan Bahasa Inggris",
             "Pendidikan IPA", "Pendidikan IPS", "Pendidikan Agama Islam", "Pendidikan Jasmani",
             "Pendidikan Pancasila dan Kewarganegaraan"),
            ("Pembelajaran",),
            (("Melaksanakan pembelajaran tatap muka (jam pelajaran)", 40), ("Menyusun rencana pembelajaran", 60),
             ("Menilai hasil belajar", 20), ("Membimbing peserta didik", 30)),
            certificates=(CERT_PENDIDIK,), female_share=0.65, pppk_share=0.22, cpns_share=0.06,
        ),
        Profession(
            "pengawas-sekolah", "Pengawas Sekolah", ("Pendidikan Guru Sekolah Dasar", "Manajemen Pendidikan"),
            ("Supervisi Pendidikan",),
            (("Melakukan supervisi akademik", 240), ("Menyusun laporan pengawasan", 480)),
            certificates=(CERT_PENDIDIK,), female_share=0.5, pppk_share=0.0,
        ),
        Profession(
            "analis-kepegawaian", "Analis Kepegawaian",
            ("Administrasi Negara", "Manajemen Sumber Daya Manusia", "Psikologi", "Hukum"),
            ("Manajemen ASN",),
            (("Memverifikasi usulan kenaikan pangkat", 30), ("Memverifikasi usulan mutasi", 45),
             ("Menyusun analisis jabatan", 240)),
            female_share=0.55, pppk_share=0.0,
        ),
        Profession(
            "pranata-komputer", "Pranata Komputer", ("Teknik Informatika", "Sistem Informasi", "Ilmu Komputer"),
            ("Pengelolaan Teknologi Informasi",),
            (("Mengembangkan modul aplikasi", 960), ("Memelihara server dan jaringan", 120),
             ("Menangani gangguan layanan TIK", 60)),
            female_share=0.3, pppk_share=0.05,
        ),
        Profession(
            "pranata-humas", "Pranata Hubungan Masyarakat", ("Ilmu Komunikasi", "Jurnalistik"),
            ("Kehumasan",),
            (("Menyusun siaran pers", 120), ("Mengelola media sosial pemerintah", 30)),
            female_share=0.55, pppk_share=0.05,
        ),
        Profession(
            "perencana", "Perencana",
            ("Perencanaan Wilayah dan Kota", "Ekonomi Pembangunan", "Teknik Sipil", "Statistika"),
            ("Perencanaan Pembangunan",),
            (("Menyusun bahan rencana kerja pembangunan", 480), ("Mengolah data perencanaan", 120)),
            female_share=0.45, pppk_share=0.0,
        ),
        Profession(
            "analis-kebijakan", "Analis Kebijakan", (), ("Analisis Kebijakan",),
            (("Menyusun kajian kebijakan", 4800), ("Menyusun ringkasan kebijakan", 960)),
            pppk_share=0.0,
        ),
        Profession(
            "auditor", "Auditor", ("Akuntansi", "Manajemen", "Hukum"), ("Audit Intern Pemerintah",),
            (("Melaksanakan audit reguler", 2400), ("Menyusun kertas kerja audit", 240),
             ("Melakukan reviu laporan keuangan", 960)),
            female_share=0.5, pppk_share=0.0,
        ),
        Profession(
            "p2upd", "Pengawas Penyelenggaraan Urusan Pemerintahan di Daerah",
            ("Ilmu Pemerintahan", "Administrasi Negara", "Hukum"), ("Pengawasan Pemerintahan",),
            (("Melakukan evaluasi penyelenggaraan urusan pemerintahan", 1440), ("Menangani pengaduan masyarakat", 240)),
            pppk_share=0.0,
        ),
        Profession(
            "analis-hukum", "Analis Hukum", ("Hukum",), ("Legal Drafting",),
            (("Menyusun rancangan peraturan daerah", 2400), ("Memberikan pertimbangan hukum", 240)),
            pppk_share=0.0,
        ),
        Profession(
            "pbj", "Pengelola Pengadaan Barang/Jasa", ("Manajemen", "Teknik Sipil", "Akuntansi", "Hukum"),
            ("Pengadaan Barang/Jasa",),
            (("Melaksanakan pemilihan penyedia", 960), ("Menyusun dokumen pemilihan", 480)),
            certificates=(CERT_PBJ,), pppk_share=0.0,
        ),
        Profession(
            "arsiparis", "Arsiparis", ("Kearsipan", "Administrasi Perkantoran"), ("Kearsipan",),
            (("Menata arsip dinamis", 30), ("Menyusun daftar arsip", 60)), female_share=0.6,
        ),
        Profession(
            "satpol", "Polisi Pamong Praja", (), ("Ketenteraman dan Ketertiban Umum",),
            (("Melakukan patroli ketertiban umum", 240), ("Menertibkan pelanggaran perda", 120),
             ("Mengamankan kegiatan pemerintah", 360)),
            female_share=0.15, pppk_share=0.02,
        ),
        Profession(
            "penguji-kendaraan", "Penguji Kendaraan Bermotor", ("Teknik Mesin", "Teknik Otomotif"),
            ("Pengujian Kendaraan Bermotor",),
            (("Melakukan uji berkala kendaraan bermotor", 45), ("Menerbitkan bukti lulus uji", 15)),
            female_share=0.1, pppk_share=0.02,
        ),
        Profession(
            "adminduk", "Administrator Database Kependudukan", ("Teknik Informatika", "Sistem Informasi"),
            ("Administrasi Kependudukan",),
            (("Memelihara database kependudukan", 120), ("Melakukan konsolidasi data kependudukan", 480)),
            female_share=0.4, pppk_share=0.0,
        ),
        Profession(
            "penyuluh-kb", "Penyuluh Keluarga Berencana", ("Kesehatan Masyarakat", "Sosiologi", "Psikologi"),
            ("Penyuluhan KB",),
            (("Melakukan penyuluhan keluarga berencana", 120), ("Mendata keluarga", 20)), female_share=0.7,
        ),
        Profession(
            "pekerja-sosial", "Pekerja Sosial", ("Kesejahteraan Sosial", "Sosiologi", "Psikologi"),
            ("Rehabilitasi Sosial",),
            (("Melakukan asesmen klien", 120), ("Mendampingi penerima bantuan sosial", 60)), female_share=0.6,
        ),
        Profession(
            "pustakawan", "Pustakawan", ("Ilmu Perpustakaan",), ("Pengelolaan Perpustakaan",),
            (("Mengolah bahan pustaka", 20), ("Melayani pemustaka", 10)), female_share=0.7,
        ),
        Profession(
            "penyuluh-pertanian", "Penyuluh Pertanian", ("Agribisnis", "Agroteknologi", "Perikanan"),
            ("Penyuluhan Pertanian",),
            (("Melakukan penyuluhan kelompok tani", 180), ("Menyusun programa penyuluhan", 960)), female_share=0.35,
        ),
        Profession(
            "teknik-jalan", "Teknik Jalan dan Jembatan", ("Teknik Sipil",), ("Konstruksi Jalan dan Jembatan",),
            (("Mengawasi pekerjaan konstruksi jalan", 480), ("Menyusun rencana anggaran biaya", 960)),
            female_share=0.2,
        ),
        Profession(
            "pengendali-dampak", "Pengendali Dampak Lingkungan", ("Teknik Lingkungan", "Kesehatan Lingkungan"),
            ("Pengendalian Pencemaran",),
            (("Memeriksa dokumen lingkungan", 480), ("Mengawasi ketaatan usaha terhadap izin lingkungan", 360)),
            female_share=0.45,
        ),
        Profession(
            "mediator", "Mediator Hubungan Industrial", ("Hukum", "Manajemen Sumber Daya Manusia"),
            ("Hubungan Industrial",),
            (("Memediasi perselisihan hubungan industrial", 960), ("Memberikan bimbingan hubungan industrial", 240)),
            pppk_share=0.0,
        ),
        Profession(
            "pengawas-perdagangan", "Pengawas Perdagangan", ("Ekonomi Pembangunan", "Manajemen"),
            ("Pengawasan Perdagangan",),
            (("Mengawasi barang beredar di pasar", 240), ("Menera ulang alat ukur", 30)),
        ),
        Profession(
            "adyatama", "Adyatama Kepariwisataan dan Ekonomi Kreatif", ("Pariwisata", "Manajemen"),
            ("Pengembangan Pariwisata",),
            (("Menyusun paket promosi wisata", 480), ("Membina pelaku ekonomi kreatif", 240)),
        ),
        Profession(
            "analis-bencana", "Analis Kebencanaan", ("Teknik Sipil", "Geografi", "Kesehatan Masyarakat"),
            ("Penanggulangan Bencana",),
            (("Menyusun kajian risiko bencana", 1440), ("Melaksanakan kaji cepat pascabencana", 480)),
        ),
        Profession(
            "pamong-budaya", "Pamong Budaya", ("Sejarah", "Antropologi"), ("Pelestarian Cagar Budaya",),
            (("Mendokumentasikan cagar budaya", 480), ("Membina komunitas budaya", 240)),
        ),
    )
}

# Generic pelaksana positions (nomenclature of PermenPANRB 45/2022).
ADM_TASKS: tuple[Task, ...] = (
    ("Mengagendakan surat masuk dan keluar", 10), ("Mengarsipkan dokumen", 8), ("Menyiapkan bahan rapat", 60),
)
PENGADMINISTRASI = pelaksana("pengadministrasi", "Pengadministrasi Perkantoran", 5, G.II_A, G.III_B, E.SMA, ADM_TASKS)
PENATA_LAYANAN = pelaksana(
    "penata-layanan", "Penata Layanan Operasional", 7, G.III_A, G.III_D, E.S1,
    (("Menelaah dokumen layanan", 30), ("Menyusun bahan laporan kegiatan", 180), ("Melayani pengaduan masyarakat", 20)),
    teknis="Pelayanan Administrasi",
)
PENGOLAH_DATA = pelaksana(
    "pengolah-data", "Pengolah Data dan Informasi", 6, G.II_C, G.III_C, E.D3,
    (("Menginput data", 5), ("Memvalidasi data", 10), ("Menyusun rekapitulasi data", 120)),
    teknis="Pengolahan Data",
)
PENGELOLA_KEUANGAN = pelaksana(
    "pengelola-keuangan", "Pengelola Keuangan", 7, G.II_C, G.III_D, E.D3,
    (("Memverifikasi surat pertanggungjawaban", 20), ("Menginput transaksi keuangan daerah", 8),
     ("Menyusun laporan keuangan bulanan", 480)),
    fields=("Akuntansi", "Manajemen", "Ekonomi Pembangunan", "Keuangan"), teknis="Pengelolaan Keuangan Daerah",
)
OPERATOR_LAYANAN = pelaksana(
    "operator-layanan", "Operator Layanan Operasional", 5, G.II_A, G.III_B, E.SMA,
    (("Melayani pemohon di loket", 15), ("Memeriksa kelengkapan berkas", 10), ("Mencetak dokumen layanan", 5)),
    teknis="Pelayanan Administrasi",
)
# Surplus-unit variants: same posts, tasks of their unit.
ADMINDUK_PENATA = replace(
    PENATA_LAYANAN, key="penata-adminduk", name="Penata Layanan Operasional Administrasi Kependudukan",
    tasks=(("Memproses penerbitan KTP-el", 10), ("Memproses kartu keluarga", 12),
           ("Memproses akta pencatatan sipil", 15)),
)
ADMINDUK_OPERATOR = replace(
    OPERATOR_LAYANAN, key="operator-adminduk", name="Operator Layanan Operasional Administrasi Kependudukan",
    tasks=(("Merekam data KTP-el", 10), ("Memindai berkas permohonan", 5), ("Melayani pemohon di loket", 15)),
)
DISHUB_OPERATOR = replace(
    OPERATOR_LAYANAN, key="operator-lalin", name="Operator Layanan Operasional Lalu Lintas", female_share=0.15,
    tasks=(("Mengatur lalu lintas pada jam sibuk", 120), ("Mengawasi juru parkir", 60),
           ("Memasang dan merawat rambu", 90)),
)
SETDA_PENATA = replace(
    PENATA_LAYANAN, key="penata-naskah", name="Penata Layanan Operasional Tata Naskah Pimpinan",
    tasks=(("Menyiapkan naskah dinas pimpinan", 45), ("Menyusun bahan sambutan pimpinan", 240),
           ("Menelaah surat masuk untuk pimpinan", 20)),
)
GENERIC_STAFF: tuple[tuple[Template, float], ...] = (
    (PENGADMINISTRASI, 3.0), (PENATA_LAYANAN, 2.5), (PENGOLAH_DATA, 1.5), (PENGELOLA_KEUANGAN, 1.2),
)


def _f(key: str, level: JabatanLevel, **kw: Any) -> Template:
    return fungsional(PROF[key], level, **kw)


def _fv(key: str, level: JabatanLevel) -> Template:
    return fungsional(vaccination(PROF[key]), level)


# --------------------------------------------------------------------------- units


@dataclass(frozen=True)
class SubUnit:
    """A bidang / bagian / UPT under an OPD, present from a dataset size on."""

    id: str
    name: str
    kind: UnitKind
    from_size: int
    staff: tuple[tuple[Template, float], ...] = ()


@dataclass(frozen=True)
class OpdSpec:
    id: str
    name: str
    kind: UnitKind
    weight: float  # share of the city's staff (before normalisation), schools etc. excluded
    staff: tuple[tuple[Template, float], ...]
    head: str = "Kepala {unit}"
    head_kelas: int = 14
    subunits: tuple[SubUnit, ...] = ()
    vacancies: tuple[Template, ...] = ()  # positions created but never staffed


def _bidang(opd: str, key: str, name: str, from_size: int, *staff: tuple[Template, float]) -> SubUnit:
    kind = UnitKind.UPT if name.startswith("UPT") else UnitKind.BIDANG
    return SubUnit(f"{opd}-{key}", name, kind, from_size, tuple(staff) or GENERIC_STAFF)


def _with(*extra: tuple[Template, float]) -> tuple[tuple[Template, float], ...]:
    """The generic office posts plus ``extra``; a post named twice gets the sum of its weights."""
    merged: dict[str, tuple[Template, float]] = {}
    for tpl, weight in (*GENERIC_STAFF, *extra):
        merged[tpl.key] = (tpl, merged[tpl.key][1] + weight if tpl.key in merged else weight)
    return tuple(merged.values())


DINKES_VACCINE_STAFF = ((_fv("epidemiolog", L.AHLI_PERTAMA), 3.0), (_fv("epidemiolog", L.AHLI_MUDA), 1.5))

OPDS: tuple[OpdSpec, ...] = (
    OpdSpec(
        "setda", "Sekretariat Daerah", UnitKind.SEKRETARIAT, 5.0,
        ((PENGADMINISTRASI, 4.0), (SETDA_PENATA, 3.0), (PENATA_LAYANAN, 2.0), (PENGOLAH_DATA, 1.5),
         (PENGELOLA_KEUANGAN, 1.0)),
        head="Sekretaris Daerah", head_kelas=15,
        subunits=(
            _bidang("setda", "umum", "Bagian Umum", 0, (PENGADMINISTRASI, 4.0), (SETDA_PENATA, 2.0),
                    (PENGOLAH_DATA, 1.0)),
            _bidang("setda", "pemerintahan", "Bagian Pemerintahan", 1000, (PENATA_LAYANAN, 3.0),
                    (PENGADMINISTRASI, 2.0)),
            _bidang("setda", "hukum", "Bagian Hukum", 1500, (_f("analis-hukum", L.AHLI_PERTAMA), 2.0),
                    (PENGADMINISTRASI, 2.0), (PENATA_LAYANAN, 1.0)),
            _bidang("setda", "organisasi", "Bagian Organisasi", 2000, (PENATA_LAYANAN, 2.0),
                    (PENGOLAH_DATA, 1.0)),
            _bidang("setda", "pbj", "Bagian Pengadaan Barang dan Jasa", 2500, (_f("pbj", L.AHLI_PERTAMA), 2.0),
                    (PENGADMINISTRASI, 1.5)),
            _bidang("setda", "prokopim", "Bagian Protokol dan Komunikasi Pimpinan", 3500, (SETDA_PENATA, 2.0),
                    (PENGADMINISTRASI, 2.0)),
            _bidang("setda", "perekonomian", "Bagian Perekonomian dan Kesejahteraan Rakyat", 4500,
                    (PENATA_LAYANAN, 2.0), (PENGADMINISTRASI, 1.5)),
        ),
        vacancies=(_f("analis-kebijakan", L.AHLI_MUDA),),
    ),
    OpdSpec("setwan", "Sekretariat DPRD", UnitKind.SEKRETARIAT, 1.4, _with((_f("analis-hukum", L.AHLI_PERTAMA), 0.6)),
            head="Sekretaris DPRD"),
    OpdSpec(
        "inspektorat", "Inspektorat", UnitKind.INSPEKTORAT, 1.3,
        ((_f("auditor", L.AHLI_PERTAMA), 3.0), (_f("auditor", L.AHLI_MUDA), 2.0), (_f("p2upd", L.AHLI_PERTAMA), 1.5),
         (PENGADMINISTRASI, 1.0)),
        head="Inspektur",
    ),
    OpdSpec(
        "bappeda", "Badan Perencanaan Pembangunan Daerah", UnitKind.BADAN, 1.2,
        _with((_f("perencana", L.AHLI_PERTAMA), 3.0), (_f("perencana", L.AHLI_MUDA), 1.5)),
        vacancies=(_f("analis-kebijakan", L.AHLI_MUDA),),
    ),
    OpdSpec(
        "bkpsdm", "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", UnitKind.BADAN, 1.4,
        _with((_f("analis-kepegawaian", L.AHLI_PERTAMA), 4.0), (_f("analis-kepegawaian", L.AHLI_MUDA), 2.0),
              (_f("arsiparis", L.TERAMPIL), 0.8)),
        subunits=(
            _bidang("bkpsdm", "mutasi", "Bidang Mutasi dan Promosi", 2000,
                    (_f("analis-kepegawaian", L.AHLI_PERTAMA), 3.0), (PENGOLAH_DATA, 1.0)),
            _bidang("bkpsdm", "bangkom", "Bidang Pengembangan Kompetensi", 3000,
                    (_f("analis-kepegawaian", L.AHLI_PERTAMA), 2.0), (PENGADMINISTRASI, 1.0)),
        ),
    ),
    OpdSpec(
        "bkd", "Badan Keuangan Daerah", UnitKind.BADAN, 2.0, _with((PENGELOLA_KEUANGAN, 4.0)),
        subunits=(
            _bidang("bkd", "anggaran", "Bidang Anggaran", 2000, (PENGELOLA_KEUANGAN, 3.0), (PENGOLAH_DATA, 1.0)),
            _bidang("bkd", "pendapatan", "Bidang Pendapatan", 2000, (PENGELOLA_KEUANGAN, 2.0),
                    (OPERATOR_LAYANAN, 2.0)),
            _bidang("bkd", "aset", "Bidang Pengelolaan Aset", 3000, (PENGELOLA_KEUANGAN, 1.5), (PENGOLAH_DATA, 1.5)),
        ),
    ),
    OpdSpec("bpbd", "Badan Penanggulangan Bencana Daerah", UnitKind.BADAN, 1.0,
            _with((_f("analis-bencana", L.AHLI_PERTAMA), 1.5), (OPERATOR_LAYANAN, 2.0)),
            head="Kepala Pelaksana {unit}"),
    OpdSpec("kesbangpol", "Badan Kesatuan Bangsa dan Politik", UnitKind.BADAN, 0.8, GENERIC_STAFF),
    OpdSpec(
        "disdikbud", "Dinas Pendidikan dan Kebudayaan", UnitKind.DINAS, 1.6,
        _with((_f("pengawas-sekolah", L.AHLI_MADYA), 2.0), (_f("pamong-budaya", L.AHLI_PERTAMA), 0.6)),
        subunits=(
            _bidang("disdikbud", "sd", "Bidang Pembinaan Sekolah Dasar", 2000),
            _bidang("disdikbud", "smp", "Bidang Pembinaan Sekolah Menengah Pertama", 2000),
            _bidang("disdikbud", "budaya", "Bidang Kebudayaan", 4000, (_f("pamong-budaya", L.AHLI_PERTAMA), 2.0),
                    (PENGADMINISTRASI, 1.0)),
        ),
    ),
    OpdSpec(
        "dinkes", "Dinas Kesehatan", UnitKind.DINAS, 2.2,
        _with((_f("admkes", L.AHLI_PERTAMA), 1.0), (_f("penyuluh-kesmas", L.AHLI_PERTAMA), 1.0)),
        subunits=(
            _bidang("dinkes", "p2p", "Bidang Pencegahan dan Pengendalian Penyakit", 0, *DINKES_VACCINE_STAFF,
                    (PENGOLAH_DATA, 1.0)),
            _bidang("dinkes", "kesmas", "Bidang Kesehatan Masyarakat", 1000,
                    (_f("penyuluh-kesmas", L.AHLI_PERTAMA), 2.0), (_f("nutrisionis", L.TERAMPIL), 1.5),
                    (PENGADMINISTRASI, 1.0)),
            _bidang("dinkes", "yankes", "Bidang Pelayanan Kesehatan", 2000, (_f("admkes", L.AHLI_PERTAMA), 2.0),
                    (_f("admkes", L.AHLI_MUDA), 1.0), (PENGOLAH_DATA, 1.0)),
            _bidang("dinkes", "sdk", "Bidang Sumber Daya Kesehatan", 3000, (_f("farmasi", L.TERAMPIL), 1.5),
                    (_f("admkes", L.AHLI_PERTAMA), 1.0), (PENGADMINISTRASI, 1.0)),
            _bidang("dinkes", "labkesda", "UPT Laboratorium Kesehatan Daerah", 4000,
                    (_f("pranata-lab", L.TERAMPIL), 3.0), (_f("pranata-lab", L.MAHIR), 1.5), (PENGADMINISTRASI, 1.0)),
            _bidang("dinkes", "ifk", "UPT Instalasi Farmasi", 5000, (_f("farmasi", L.TERAMPIL), 2.0),
                    (_f("apoteker", L.AHLI_PERTAMA), 1.0), (PENGADMINISTRASI, 1.0)),
        ),
    ),
    # RSUD staff come from RSUD_STAFF below (weight here is the hospital's share).
    OpdSpec("rsud", "RSUD Sultan Syarif Mohamad Alkadrie", UnitKind.RSUD, 8.0, (), head="Direktur {unit}"),
    OpdSpec(
        "pupr", "Dinas Pekerjaan Umum dan Penataan Ruang", UnitKind.DINAS, 2.4,
        _with((_f("teknik-jalan", L.AHLI_PERTAMA), 2.5), (_f("teknik-jalan", L.AHLI_MUDA), 1.0),
              (OPERATOR_LAYANAN, 2.0)),
        subunits=(
            _bidang("pupr", "bm", "Bidang Bina Marga", 2000, (_f("teknik-jalan", L.AHLI_PERTAMA), 2.0),
                    (OPERATOR_LAYANAN, 2.0)),
            _bidang("pupr", "sda", "Bidang Sumber Daya Air", 2000, (_f("teknik-jalan", L.AHLI_PERTAMA), 1.0),
                    (OPERATOR_LAYANAN, 2.0)),
            _bidang("pupr", "ck", "Bidang Cipta Karya", 3000),
        ),
    ),
    OpdSpec("perkim", "Dinas Perumahan Rakyat dan Kawasan Permukiman", UnitKind.DINAS, 1.0,
            _with((_f("teknik-jalan", L.AHLI_PERTAMA), 1.0))),
    OpdSpec(
        "satpolpp", "Satuan Polisi Pamong Praja", UnitKind.SATPOL_PP, 2.8,
        ((_f("satpol", L.TERAMPIL), 6.0), (_f("satpol", L.MAHIR), 3.0), (_f("satpol", L.AHLI_PERTAMA), 1.5),
         (PENGADMINISTRASI, 1.0)),
    ),
    OpdSpec("dinsos", "Dinas Sosial", UnitKind.DINAS, 1.1, _with((_f("pekerja-sosial", L.AHLI_PERTAMA), 2.0))),
    OpdSpec(
        "disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil", UnitKind.DINAS, 2.6,
        ((ADMINDUK_OPERATOR, 4.0), (ADMINDUK_PENATA, 3.0), (PENGOLAH_DATA, 1.5), (PENGADMINISTRASI, 1.0),
         (_f("adminduk", L.AHLI_PERTAMA), 0.8)),
        subunits=(
            _bidang("disdukcapil", "dafduk", "Bidang Pelayanan Pendaftaran Penduduk", 0, (ADMINDUK_OPERATOR, 3.0),
                    (ADMINDUK_PENATA, 2.0)),
            _bidang("disdukcapil", "capil", "Bidang Pelayanan Pencatatan Sipil", 1500, (ADMINDUK_OPERATOR, 2.0),
                    (ADMINDUK_PENATA, 2.0)),
            _bidang("disdukcapil", "piak", "Bidang Pengelolaan Informasi Administrasi Kependudukan", 3000,
                    (_f("adminduk", L.AHLI_PERTAMA), 2.0), (PENGOLAH_DATA, 2.0)),
        ),
    ),
    OpdSpec(
        "dishub", "Dinas Perhubungan", UnitKind.DINAS, 3.0,
        ((DISHUB_OPERATOR, 4.0), (PENGADMINISTRASI, 2.0), (PENATA_LAYANAN, 1.5), (PENGELOLA_KEUANGAN, 0.8)),
        subunits=(
            _bidang("dishub", "pkb", "UPT Pengujian Kendaraan Bermotor", 0,
                    (_f("penguji-kendaraan", L.TERAMPIL), 1.5), (OPERATOR_LAYANAN, 2.0), (PENGADMINISTRASI, 1.5)),
            _bidang("dishub", "lalin", "Bidang Lalu Lintas", 1000, (DISHUB_OPERATOR, 4.0), (PENGADMINISTRASI, 1.0)),
            _bidang("dishub", "angkutan", "Bidang Angkutan", 2000, (DISHUB_OPERATOR, 2.0), (PENATA_LAYANAN, 1.5)),
            _bidang("dishub", "parkir", "UPT Perparkiran", 3000, (DISHUB_OPERATOR, 3.0), (PENGADMINISTRASI, 1.0)),
        ),
    ),
    OpdSpec(
        "dlh", "Dinas Lingkungan Hidup", UnitKind.DINAS, 2.2,
        _with((_f("pengendali-dampak", L.AHLI_PERTAMA), 1.5), (OPERATOR_LAYANAN, 2.0)),
        subunits=(_bidang("dlh", "tpa", "UPT Tempat Pemrosesan Akhir Sampah", 3000, (OPERATOR_LAYANAN, 3.0),
                          (PENGADMINISTRASI, 1.0)),),
    ),
    OpdSpec(
        "diskominfo", "Dinas Komunikasi dan Informatika", UnitKind.DINAS, 1.1,
        _with((_f("pranata-komputer", L.AHLI_PERTAMA), 2.5), (_f("pranata-komputer", L.TERAMPIL), 1.5),
              (_f("pranata-humas", L.AHLI_PERTAMA), 1.5)),
        vacancies=(_f("pranata-komputer", L.AHLI_MUDA),),
    ),
    OpdSpec("diskumdag", "Dinas Koperasi, Usaha Mikro dan Perdagangan", UnitKind.DINAS, 1.1,
            _with((_f("pengawas-perdagangan", L.AHLI_PERTAMA), 1.5))),
    OpdSpec("dpmptsptk", "Dinas Penanaman Modal, Pelayanan Terpadu Satu Pintu dan Tenaga Kerja", UnitKind.DINAS, 1.2,
            _with((_f("mediator", L.AHLI_PERTAMA), 1.0), (OPERATOR_LAYANAN, 2.0))),
    OpdSpec("disporapar", "Dinas Kepemudaan, Olahraga dan Pariwisata", UnitKind.DINAS, 0.9,
            _with((_f("adyatama", L.AHLI_PERTAMA), 1.5))),
    OpdSpec("disperpus", "Dinas Perpustakaan", UnitKind.DINAS, 0.7,
            _with((_f("pustakawan", L.TERAMPIL), 2.0), (_f("pustakawan", L.AHLI_PERTAMA), 1.0),
                  (_f("arsiparis", L.TERAMPIL), 1.0))),
    OpdSpec("dp3", "Dinas Pangan, Pertanian dan Perikanan", UnitKind.DINAS, 1.2,
            _with((_f("penyuluh-pertanian", L.AHLI_PERTAMA), 2.5), (_f("penyuluh-pertanian", L.AHLI_MUDA), 1.0))),
    OpdSpec("dp2kbp3a", "Dinas Pengendalian Penduduk, Keluarga Berencana, Pemberdayaan Perempuan dan Perlindungan Anak",
            UnitKind.DINAS, 1.2,
            _with((_f("penyuluh-kb", L.AHLI_PERTAMA), 3.0), (_f("penyuluh-kb", L.AHLI_MUDA), 1.0))),
)

RSUD_STAFF: tuple[tuple[Template, float], ...] = (
    (_f("perawat", L.TERAMPIL), 6.0), (_f("perawat", L.MAHIR), 3.0), (_f("perawat", L.AHLI_PERTAMA), 3.0),
    (_f("perawat", L.AHLI_MUDA), 1.0), (_f("bidan", L.TERAMPIL), 1.5), (_f("dokter", L.AHLI_PERTAMA), 1.5),
    (_f("dokter", L.AHLI_MUDA), 1.0), (_f("dokter", L.AHLI_MADYA), 0.8), (_f("apoteker", L.AHLI_PERTAMA), 0.5),
    (_f("farmasi", L.TERAMPIL), 1.0), (_f("pranata-lab", L.TERAMPIL), 1.0), (_f("perekam-medis", L.TERAMPIL), 1.0),
    (_f("nutrisionis", L.TERAMPIL), 0.4), (PENGADMINISTRASI, 1.5), (PENGELOLA_KEUANGAN, 0.8),
)
PUSKESMAS_STAFF: tuple[tuple[Template, float], ...] = (
    (_fv("perawat", L.TERAMPIL), 3.0), (_fv("perawat", L.MAHIR), 1.5), (_fv("perawat", L.AHLI_PERTAMA), 1.0),
    (_fv("bidan", L.TERAMPIL), 3.0), (_fv("bidan", L.MAHIR), 1.2), (_f("dokter", L.AHLI_PERTAMA), 1.2),
    (_f("farmasi", L.TERAMPIL), 0.6), (_f("pranata-lab", L.TERAMPIL), 0.6), (_f("sanitarian", L.TERAMPIL), 0.5),
    (_f("nutrisionis", L.TERAMPIL), 0.5), (PENGADMINISTRASI, 0.8),
)
PUSKESMAS_REQUIRED = ("perawat-vaksin-terampil", "bidan-vaksin-terampil")
# Vaccination posts that health-educated staff in surplus units are built to fit (but for the
# vaccinator training and, for some, the STR), with how often each is chosen.
VACCINATION_TARGETS: tuple[tuple[Template, float], ...] = tuple(
    (tpl, weight) for tpl, weight in (*DINKES_VACCINE_STAFF, *PUSKESMAS_STAFF) if PROGRAMME_VAKSINASI in tpl.programmes
)
DINKES_REQUIRED = ("epidemiolog-pertama",)
SD_STAFF: tuple[tuple[Template, float], ...] = (
    (_f("guru-sd", L.AHLI_PERTAMA), 4.0), (_f("guru-sd", L.AHLI_MUDA), 3.0), (_f("guru-sd", L.AHLI_MADYA), 2.0),
    (PENGADMINISTRASI, 0.6),
)
SMP_STAFF: tuple[tuple[Template, float], ...] = (
    (_f("guru-smp", L.AHLI_PERTAMA), 4.0), (_f("guru-smp", L.AHLI_MUDA), 3.0), (_f("guru-smp", L.AHLI_MADYA), 2.5),
    (PENGADMINISTRASI, 1.0), (PENGELOLA_KEUANGAN, 0.3),
)
KECAMATAN_STAFF: tuple[tuple[Template, float], ...] = (
    (PENGADMINISTRASI, 2.0), (PENATA_LAYANAN, 2.0), (OPERATOR_LAYANAN, 1.5), (PENGELOLA_KEUANGAN, 0.5),
)
KELURAHAN_STAFF: tuple[tuple[Template, float], ...] = (
    (PENGADMINISTRASI, 2.0), (OPERATOR_LAYANAN, 1.5), (PENATA_LAYANAN, 1.0),
)

KECAMATAN: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("barat", "Pontianak Barat", ("Pal Lima", "Sungai Beliung", "Sungai Jawi Dalam", "Sungai Jawi Luar")),
    ("kota", "Pontianak Kota", ("Darat Sekip", "Mariana", "Sungai Bangkong", "Sungai Jawi", "Tengah")),
    ("selatan", "Pontianak Selatan",
     ("Akcaya", "Benua Melayu Darat", "Benua Melayu Laut", "Kota Baru", "Parit Tokaya")),
    ("tenggara", "Pontianak Tenggara",
     ("Bangka Belitung Darat", "Bangka Belitung Laut", "Bansir Darat", "Bansir Laut")),
    ("timur", "Pontianak Timur",
     ("Banjar Serasan", "Dalam Bugis", "Parit Mayor", "Saigon", "Tambelan Sampit", "Tanjung Hilir", "Tanjung Hulu")),
    ("utara", "Pontianak Utara", ("Batu Layang", "Siantan Hilir", "Siantan Hulu", "Siantan Tengah")),
)
PUSKESMAS: tuple[str, ...] = (
    "Alianyang", "Kampung Bali", "Siantan Hilir", "Perumnas I", "Gang Sehat", "Saigon", "Kampung Dalam",
    "Khatulistiwa", "Siantan Hulu", "Tanjung Hulu", "Perumnas II", "Pal Tiga", "Siantan Tengah", "Parit Haji Husin I",
    "Parit Haji Husin II", "Kom Yos Sudarso", "Karya Mulia", "Telaga Biru", "Paris II", "Banjar Serasan",
    "Tambelan Sampit", "Purnama", "Pal Lima",
)
MAX_SD = 180
MAX_SMP = 27

# Staff weights (same scale as OpdSpec.weight) of the scaled unit families.
WEIGHT_SCHOOLS = 38.0
WEIGHT_PUSKESMAS = 10.0
WEIGHT_KECAMATAN = 0.8
WEIGHT_KELURAHAN = 0.35

# --------------------------------------------------------------------------- names

# Given names common in Pontianak's communities, combined at random: invented people.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # community: (male given names, female given names, second names)
    "melayu": (
        ("Muhammad", "Abdul", "Ahmad", "Hamdan", "Rahmat", "Zulkifli", "Fauzi", "Irwan", "Rizal", "Firmansyah",
         "Syahrul", "Azhar", "Ridwan", "Iskandar", "Junaidi", "Khairul", "Mahmud", "Nazaruddin", "Saiful",
         "Taufik", "Hafiz", "Rizky", "Fadli", "Zainal"),
        ("Nurul", "Siti", "Aisyah", "Fatimah", "Rahmah", "Nurhaliza", "Zulaikha", "Rosnani", "Hasnah",
         "Maimunah", "Nurjanah", "Fitri", "Juliana", "Salmah", "Mariani", "Erlina", "Khadijah", "Nadia",
         "Rahimah", "Suraya"),
        ("Hidayat", "Ramadhan", "Syahputra", "Saputra", "Hasan", "Usman", "Rahman", "Hamid", "Ismail", "Abdullah",
         "Yusuf", "Kadir", "Fadillah", "Hanafi", "Basri", "Kurnia", "Amin", "Zakaria", "Mahdi", "Alwi"),
    ),
    "dayak": (
        ("Agustinus", "Yohanes", "Fransiskus", "Stefanus", "Yulianus", "Antonius", "Petrus", "Markus", "Lukas",
         "Paulus", "Albertus", "Benediktus", "Herkulanus", "Donatus", "Kristianus", "Simon"),
        ("Maria", "Yosefina", "Veronika", "Theresia", "Natalia", "Agnes", "Lusia", "Margaretha", "Skolastika",
         "Yuliana", "Sesilia", "Monika", "Florentina", "Elisabet"),
        ("Apui", "Ajong", "Jalung", "Ukur", "Lawing", "Ransa", "Jimbun", "Nyangun", "Utai", "Lahang", "Kuyan",
         "Sapik", "Ading", "Bujang", "Iring", "Tingang"),
    ),
    "tionghoa": (
        ("Hendra", "Budi", "Lukman", "Rudi", "Hartono", "Sugianto", "Darmawan", "Kevin", "Steven", "Ferry",
         "Johan", "Willy", "Andreas", "Yohan", "Suryadi", "Eddy"),
        ("Lina", "Susanti", "Meliana", "Yenny", "Lily", "Vivian", "Novita", "Cindy", "Elisa", "Silvia", "Merry",
         "Fenny", "Linda", "Sherly"),
        ("Wijaya", "Halim", "Gunawan", "Setiawan", "Kurniawan", "Santoso", "Suwandi", "Salim", "Tjhang", "Bong",
         "Chin", "Phang", "Lim", "Tan", "Lie", "Tjhai", "Kho", "Ng"),
    ),
    "jawa": (
        ("Agus", "Bambang", "Eko", "Joko", "Slamet", "Suyanto", "Wahyu", "Dwi", "Teguh", "Heru", "Priyo",
         "Sugeng", "Bagus", "Aditya", "Yoga", "Bayu", "Anton", "Nanang"),
        ("Sri", "Dewi", "Endang", "Sulastri", "Rina", "Tri", "Ayu", "Kartika", "Ratna", "Puji", "Indah", "Sekar",
         "Wulan", "Yuni", "Ning", "Rini"),
        ("Prasetyo", "Santoso", "Purnomo", "Hartono", "Susanto", "Wibowo", "Nugroho", "Setiawan", "Kusuma",
         "Suryono", "Handoko", "Pamungkas", "Raharjo", "Utomo", "Wicaksono", "Hidayanto"),
    ),
    "bugis": (
        ("Arifin", "Syamsuddin", "Muhlis", "Kaharuddin", "Jamaluddin", "Nasrullah", "Ambo", "Baharuddin",
         "Amiruddin", "Sudirman", "Haris", "Faisal"),
        ("Nurhayati", "Hasnawati", "Rosmiati", "Sitti", "Marlina", "Hasriani", "Nurlela", "Jumriani", "Sukmawati",
         "Rahmawati"),
        ("Baso", "Tahir", "Latif", "Majid", "Rasyid", "Hamzah", "Mappa", "Nawir", "Sampe", "Tenri"),
    ),
}
COMMUNITY_SHARE = (("melayu", 0.34), ("dayak", 0.14), ("tionghoa", 0.14), ("jawa", 0.22), ("bugis", 0.16))
FEMALE_SECOND = {"jawa": ("Lestari", "Wulandari", "Rahayu", "Handayani", "Kurniasih", "Puspitasari")}

# Academic degree (gelar) after the name, by education field.
DEGREE_S1 = {
    "Keperawatan": "S.Kep., Ners", "Kebidanan": "S.Tr.Keb.", "Kesehatan Masyarakat": "S.K.M.",
    "Epidemiologi": "S.K.M.", "Promosi Kesehatan": "S.K.M.", "Kesehatan Lingkungan": "S.K.M.", "Gizi": "S.Gz.",
    "Farmasi": "S.Farm.", "Hukum": "S.H.", "Akuntansi": "S.E.", "Manajemen": "S.E.", "Ekonomi Pembangunan": "S.E.",
    "Keuangan": "S.E.", "Teknik Informatika": "S.Kom.", "Sistem Informasi": "S.Kom.", "Ilmu Komputer": "S.Kom.",
    "Teknik Sipil": "S.T.", "Teknik Lingkungan": "S.T.", "Teknik Mesin": "S.T.", "Perencanaan Wilayah dan Kota": "S.T.",
    "Statistika": "S.Stat.", "Psikologi": "S.Psi.", "Ilmu Pemerintahan": "S.IP.", "Agribisnis": "S.P.",
    "Agroteknologi": "S.P.", "Perikanan": "S.Pi.", "Ilmu Komunikasi": "S.I.Kom.", "Pariwisata": "S.Par.",
}
DEGREE_D3 = {
    "Keperawatan": "A.Md.Kep.", "Kebidanan": "A.Md.Keb.", "Farmasi": "A.Md.Farm.", "Gizi": "A.Md.Gz.",
    "Kesehatan Lingkungan": "A.Md.KL.", "Analis Kesehatan": "A.Md.AK.", "Teknologi Laboratorium Medis": "A.Md.AK.",
    "Rekam Medis dan Informasi Kesehatan": "A.Md.RMIK.",
}
DEGREE_S2 = {"health": "M.Kes.", "edu": "M.Pd.", "law": "M.H.", "tech": "M.T.", "other": "M.Si."}

# Education fields by level for posts that accept any field.
GENERIC_FIELDS: dict[EducationLevel, tuple[str, ...]] = {
    E.SMA: ("IPA", "IPS", "Administrasi Perkantoran", "Akuntansi", "Teknik Komputer dan Jaringan"),
    E.D3: ("Administrasi Perkantoran", "Akuntansi", "Manajemen Informatika", "Administrasi Bisnis", "Kearsipan"),
    E.S1: ("Administrasi Negara", "Ilmu Pemerintahan", "Hukum", "Manajemen", "Akuntansi", "Ekonomi Pembangunan",
           "Teknik Informatika", "Sosiologi", "Ilmu Komunikasi", "Kesejahteraan Sosial"),
}
GENERIC_FIELDS[E.D4] = GENERIC_FIELDS[E.S1]
GENERIC_FIELDS[E.S2] = ("Administrasi Publik", "Manajemen", "Ilmu Hukum", "Ilmu Pemerintahan", "Perencanaan Wilayah")
GENERIC_FIELDS[E.S3] = ("Administrasi Publik", "Ilmu Manajemen", "Ilmu Hukum")
GENERAL_TRAININGS: tuple[tuple[str, float, int | None], ...] = (
    # (name, hours, validity in years or None)
    ("Pelatihan Pelayanan Prima", 24, None),
    ("Pelatihan Tata Naskah Dinas", 16, None),
    ("Pelatihan Pengelolaan Arsip", 24, None),
    ("Pelatihan Keamanan Informasi", 16, 3),
    ("Pelatihan Pengelolaan Keuangan Daerah", 32, None),
    ("Pelatihan Analisis Beban Kerja", 24, None),
)
HEALTH_TRAININGS: tuple[tuple[str, float, int | None], ...] = (
    ("Pelatihan Bantuan Hidup Dasar", 16, 2),
    ("Pelatihan Pencegahan dan Pengendalian Infeksi", 24, 3),
    ("Pelatihan Manajemen Terpadu Balita Sakit", 40, None),
)
TRAINING_HOURS = {
    TRAINING_VAKSINATOR: 40.0,
    "Pelatihan Kepemimpinan Nasional Tingkat II": 420.0,
    "Pelatihan Kepemimpinan Administrator": 380.0,
    "Pelatihan Kepemimpinan Pengawas": 280.0,
}
TRAINING_VALIDITY = {TRAINING_VAKSINATOR: 5}
STR_LIFETIME_FROM = dt.date(2023, 8, 8)  # UU 17/2023: STR issued from then on has no expiry

# --------------------------------------------------------------------------- building blocks


@dataclass
class UnitPlan:
    id: str
    name: str
    kind: UnitKind
    parent_id: str | None
    opd_id: str
    weight: float
    head: Template | None
    structural: tuple[tuple[Template, int], ...]  # extra structural posts and the unit size they need
    staff: tuple[tuple[Template, float], ...]
    required: tuple[str, ...] = ()  # staff template keys that must get at least one person
    vacancies: tuple[Template, ...] = ()
    head_vacant: bool = False
    size: int = 0


@dataclass
class PositionPlan:
    id: str
    template: Template
    unit: UnitPlan
    name: str
    staff: int
    role: str  # head | structural | staff | vacancy
    tasks: list[dict[str, Any]] | None = None


@dataclass
class Flags:
    close_to_retirement: bool = False
    active_sanction: bool = False
    past_sanction: bool = False
    investigation: bool = False
    below_baik: bool = False
    health_educated: bool = False
    health_target: Template | None = None  # the vaccination post a health-educated person could fill
    vaksinator_trained: bool = False  # a health-educated person who already took the training
    holds_str: bool = False  # a health-educated nurse or midwife with a valid STR


@dataclass
class Context:
    rng: random.Random
    as_of: dt.date
    positions_by_family: dict[str, list[PositionPlan]] = field(default_factory=dict)
    serials: dict[str, int] = field(default_factory=dict)
    puskesmas_ids: list[str] = field(default_factory=list)


def _weighted(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in options)
    x = rng.random() * total
    for value, w in options:
        x -= w
        if x < 0:
            return value
    return options[-1][0]


def apportion(total: int, weights: Sequence[float], minimums: Sequence[int]) -> list[int]:
    """Split ``total`` into integers >= ``minimums`` proportional to ``weights`` (largest remainder)."""
    base = list(minimums)
    rest = total - sum(base)
    if rest < 0:
        raise ValueError(f"cannot place {total} people: the minimum staffing needs {sum(base)}")
    wsum = sum(weights)
    if rest == 0 or wsum <= 0:
        if rest and base:
            base[0] += rest
        return base
    quotas = [rest * w / wsum for w in weights]
    floors = [int(q) for q in quotas]
    left = rest - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [b + f for b, f in zip(base, floors, strict=True)]


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


# --------------------------------------------------------------------------- units


def _plan_units(employees: int, rng: random.Random) -> list[UnitPlan]:
    units: list[UnitPlan] = []

    def head_for(spec: OpdSpec) -> Template:
        name = spec.head.format(unit=spec.name)
        return structural("kepala", name, K.JPT, spec.head_kelas, G.IV_B, G.IV_E, female_share=0.3)

    office_struct: tuple[tuple[Template, int], ...] = (
        (structural("sekretaris", "Sekretaris {unit}", K.ADMINISTRATOR, 11, G.III_D, G.IV_C), 5),
        (structural("kasubbag-umum", "Kepala Subbagian Umum dan Kepegawaian {unit}", K.PENGAWAS, 9, G.III_B, G.IV_A),
         8),
    )
    for spec in OPDS:
        present = [s for s in spec.subunits if employees >= s.from_size]
        share_office = 0.4 if present else 1.0
        staff = RSUD_STAFF if spec.id == "rsud" else spec.staff
        struct = office_struct
        if spec.id == "setda":
            struct = (
                (structural("asisten-pemerintahan", "Asisten Pemerintahan dan Kesejahteraan Rakyat", K.JPT, 14,
                            G.IV_B, G.IV_E), 25),
                (structural("asisten-administrasi", "Asisten Administrasi Umum", K.JPT, 14, G.IV_B, G.IV_E), 30),
            )
        elif spec.id == "rsud":
            struct = (
                (structural("wadir", "Wakil Direktur Pelayanan", K.ADMINISTRATOR, 12, G.III_D, G.IV_C,
                            fields=("Kedokteran", "Kesehatan Masyarakat", "Administrasi Rumah Sakit")), 10),
                (structural("kabag-umum", "Kepala Bagian Umum dan Keuangan", K.ADMINISTRATOR, 11, G.III_D, G.IV_C),
                 20),
                (structural("kasi-keperawatan", "Kepala Seksi Keperawatan", K.PENGAWAS, 9, G.III_B, G.IV_A,
                            min_education=E.D3, fields=HEALTH_FIELDS_NURSE, female_share=0.7), 30),
            )
        elif spec.id == "setwan":
            struct = ((structural("kabag-umum", "Kepala Bagian Umum dan Keuangan {unit}", K.ADMINISTRATOR, 11, G.III_D,
                                  G.IV_C), 5), office_struct[1])
        elif spec.id == "inspektorat":
            struct = ((structural("sekretaris", "Sekretaris {unit}", K.ADMINISTRATOR, 11, G.III_D, G.IV_C), 5),
                      (structural("irban", "Inspektur Pembantu Wilayah", K.ADMINISTRATOR, 11, G.III_D, G.IV_C), 9))
        units.append(UnitPlan(
            spec.id, spec.name, spec.kind, None, spec.id, spec.weight * share_office, head_for(spec),
            struct, staff, DINKES_REQUIRED if spec.id == "dinkes" and not present else (), spec.vacancies,
        ))
        for sub in present:
            if sub.kind is UnitKind.UPT:  # a UPT is led by a pengawas, a bidang or bagian by an administrator
                head = structural("kepala", f"Kepala {sub.name}", K.PENGAWAS, 9, G.III_B, G.IV_A)
            else:
                head = structural("kepala", f"Kepala {sub.name}", K.ADMINISTRATOR, 11, G.III_D, G.IV_C)
            required = DINKES_REQUIRED if sub.id == "dinkes-p2p" else ()
            units.append(UnitPlan(
                sub.id, sub.name, sub.kind, spec.id, spec.id, spec.weight * 0.6 / len(present), head, (), sub.staff,
                required,
            ))
        if spec.id == "dinkes":
            n_pkm = min(len(PUSKESMAS), max(2, round(employees / 300)))
            for name in PUSKESMAS[:n_pkm]:
                head = structural(
                    "kepala", f"Kepala Puskesmas {name}", K.PENGAWAS, 9, G.III_B, G.IV_A,
                    fields=("Kedokteran", "Kesehatan Masyarakat", "Keperawatan", "Kebidanan"), female_share=0.6,
                )
                units.append(UnitPlan(
                    f"pkm-{_slug(name)}", f"Puskesmas {name}", UnitKind.PUSKESMAS, "dinkes", "dinkes",
                    WEIGHT_PUSKESMAS / n_pkm * rng.uniform(0.8, 1.2), head, (), PUSKESMAS_STAFF, PUSKESMAS_REQUIRED,
                ))
        if spec.id == "disdikbud":
            n_sd = min(MAX_SD, max(2, round(employees / 70)))
            n_smp = min(MAX_SMP, max(1, round(employees / 300)))
            sd_weight = WEIGHT_SCHOOLS * 0.72 / n_sd
            smp_weight = WEIGHT_SCHOOLS * 0.28 / n_smp
            for i in range(n_sd):
                kec_key, kec_name, _ = KECAMATAN[i % len(KECAMATAN)]
                number = i // len(KECAMATAN) + 1
                units.append(UnitPlan(
                    f"sdn-{number:02d}-{kec_key}", f"SD Negeri {number:02d} {kec_name}", UnitKind.SEKOLAH,
                    "disdikbud", "disdikbud", sd_weight * rng.uniform(0.75, 1.25), None, (), SD_STAFF,
                    ("guru-sd-pertama",),
                ))
            for i in range(n_smp):
                units.append(UnitPlan(
                    f"smpn-{i + 1:02d}", f"SMP Negeri {i + 1} Pontianak", UnitKind.SEKOLAH, "disdikbud", "disdikbud",
                    smp_weight * rng.uniform(0.75, 1.25), None, (), SMP_STAFF, ("guru-smp-pertama",),
                ))
    for key, name, kelurahan in KECAMATAN:
        kec_id = f"kec-{key}"
        units.append(UnitPlan(
            kec_id, f"Kecamatan {name}", UnitKind.KECAMATAN, None, kec_id, WEIGHT_KECAMATAN,
            structural("camat", f"Camat {name}", K.ADMINISTRATOR, 12, G.III_D, G.IV_B),
            ((structural("sekcam", f"Sekretaris Kecamatan {name}", K.ADMINISTRATOR, 10, G.III_C, G.IV_A), 4),
             (structural("kasi-pem", f"Kepala Seksi Pemerintahan Kecamatan {name}", K.PENGAWAS, 9, G.III_B, G.III_D),
              6)),
            KECAMATAN_STAFF,
        ))
        for kel in kelurahan:
            units.append(UnitPlan(
                f"kel-{_slug(kel)}", f"Kelurahan {kel}", UnitKind.KELURAHAN, kec_id, kec_id,
                WEIGHT_KELURAHAN * rng.uniform(0.8, 1.2),
                structural("lurah", f"Lurah {kel}", K.PENGAWAS, 9, G.III_B, G.III_D, min_education=E.D3),
                ((structural("seklur", f"Sekretaris Kelurahan {kel}", K.PENGAWAS, 8, G.III_A, G.III_C,
                             min_education=E.D3), 4),),
                KELURAHAN_STAFF,
            ))
    return units


def _minimum_staff(unit: UnitPlan) -> int:
    return (0 if unit.head is None or unit.head_vacant else 1) + len(unit.required)


def _plan_positions(units: list[UnitPlan], employees: int, rng: random.Random) -> list[PositionPlan]:
    # An acting head (Plt.) in a few OPD: the head post is vacant.
    candidates = [u for u in units if u.parent_id is None and u.opd_id not in (*SURPLUS_OPD, *SHORTAGE_OPD)
                  and u.kind not in (UnitKind.KECAMATAN,)]
    for unit in rng.sample(candidates, min(len(candidates), employees // 2500)):
        unit.head_vacant = True
    sizes = apportion(employees, [u.weight for u in units], [max(1, _minimum_staff(u)) for u in units])
    positions: list[PositionPlan] = []
    for unit, size in zip(units, sizes, strict=True):
        unit.size = size
        remaining = size
        if unit.head is not None:
            filled = 0 if unit.head_vacant else 1
            positions.append(PositionPlan(f"{unit.id}.kepala", unit.head, unit, unit.head.name, filled,
                                          "vacancy" if unit.head_vacant else "head"))
            remaining -= filled
        for tpl, needs in unit.structural:
            if size >= needs and remaining > len(unit.required):
                positions.append(PositionPlan(f"{unit.id}.{tpl.key}", tpl, unit, tpl.name.format(unit=unit.name), 1,
                                              "structural"))
                remaining -= 1
        minimums = [1 if tpl.key in unit.required else 0 for tpl, _ in unit.staff]
        counts = apportion(remaining, [w for _, w in unit.staff], minimums) if unit.staff else []
        if not unit.staff and remaining:
            raise AssertionError(f"unit {unit.id} has {remaining} people and no staff posts")
        for (tpl, _), count in zip(unit.staff, counts, strict=True):
            if count:
                positions.append(PositionPlan(f"{unit.id}.{tpl.key}", tpl, unit, tpl.name.format(unit=unit.name), count,
                                              "staff"))
        for tpl in unit.vacancies:
            positions.append(PositionPlan(f"{unit.id}.{tpl.key}", tpl, unit, tpl.name.format(unit=unit.name), 0,
                                          "vacancy"))
    return positions


# --------------------------------------------------------------------------- workload


def _target_ej(pos: PositionPlan, rng: random.Random) -> float:
    tpl = pos.template
    opd = pos.unit.opd_id
    if PROGRAMME_VAKSINASI in tpl.programmes:
        return rng.uniform(1.3, 1.8)
    if pos.role in ("head", "structural"):
        return rng.uniform(0.8, 0.95) if opd in SURPLUS_OPD else rng.uniform(0.92, 1.12)
    if opd in SURPLUS_OPD:
        return rng.uniform(0.5, 0.8) if tpl.kind is K.PELAKSANA else rng.uniform(0.7, 0.9)
    if opd in SHORTAGE_OPD:
        return rng.uniform(1.1, 1.4) if tpl.family in PROF and PROF[tpl.family].health else rng.uniform(0.95, 1.15)
    if opd == "rsud":
        return rng.uniform(0.95, 1.2)
    return rng.uniform(0.85, 1.15)


def _tasks_for(pos: PositionPlan, rng: random.Random) -> list[dict[str, Any]]:
    """Tasks whose total hours give the position its target EJ with its current staff."""
    if pos.staff:
        hours = _target_ej(pos, rng) * pos.staff * EFFECTIVE_HOURS
    else:
        hours = rng.uniform(0.8, 1.3) * EFFECTIVE_HOURS  # a vacancy: about one person needed
    tasks = pos.template.tasks
    weights = [rng.uniform(0.6, 1.4) for _ in tasks]
    total = sum(weights)
    out = []
    for (name, norm), w in zip(tasks, weights, strict=True):
        volume = max(1, round(hours * w / total * 60 / norm))
        out.append({"name": name, "volume_per_year": volume, "norm_minutes": norm})
    return out


def _position_record(pos: PositionPlan) -> dict[str, Any]:
    tpl = pos.template
    return {
        "id": pos.id,
        "name": pos.name,
        "kind": tpl.kind.value,
        "level": tpl.level.value if tpl.level else None,
        "kelas": tpl.kelas,
        "unit_id": pos.unit.id,
        "requirements": {
            "min_rank": tpl.min_rank.value if tpl.min_rank else None,
            "max_rank": tpl.max_rank.value if tpl.max_rank else None,
            "min_education": tpl.min_education.value,
            "education_fields": list(tpl.fields),
            "competencies": [{"name": n, "kind": k.value, "min_level": str(lv)} for n, k, lv in tpl.competencies],
            "trainings": list(tpl.trainings),
            "certificates": list(tpl.certificates),
        },
        "tasks": pos.tasks,
        "programmes": list(tpl.programmes),
    }


# --------------------------------------------------------------------------- employees


def _years(days: float) -> dt.timedelta:
    return dt.timedelta(days=round(days * 365.2425))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _status(tpl: Template, role: str, rng: random.Random) -> EmployeeStatus:
    if role != "staff":
        return EmployeeStatus.PNS
    x = rng.random()
    if x < tpl.cpns_share:
        return EmployeeStatus.CPNS
    if x < tpl.cpns_share + tpl.pppk_share:
        return EmployeeStatus.PPPK
    return EmployeeStatus.PNS


def _education(tpl: Template, flags: Flags, rng: random.Random) -> tuple[EducationLevel, str]:
    if flags.health_target is not None:
        return flags.health_target.min_education, flags.health_target.fields[0]
    options2 = [(lv, w) for lv, w in tpl.edu_levels
                if tpl.max_rank is None or RANK_ORD[ENTRY_RANK[lv]] <= RANK_ORD[tpl.max_rank]]
    level = _weighted(rng, options2 or list(tpl.edu_levels))
    if tpl.fields:
        return level, rng.choice(tpl.fields)
    return level, rng.choice(GENERIC_FIELDS.get(level, GENERIC_FIELDS[E.S1]))


def _rank_window(level: EducationLevel, *templates: Template) -> tuple[int, int]:
    """Rank ordinals open to a person with ``level`` education that fit every template's range."""
    lo = max([RANK_ORD[ENTRY_RANK[level]], *(RANK_ORD[t.min_rank] for t in templates if t.min_rank)])
    hi = min([RANK_ORD[RANK_CAP[level]], *(RANK_ORD[t.max_rank] for t in templates if t.max_rank)])
    return lo, hi


def _rank(tpl: Template, level: EducationLevel, rng: random.Random) -> Golongan:
    entry = RANK_ORD[ENTRY_RANK[level]]
    lo = max(entry, RANK_ORD[tpl.min_rank] if tpl.min_rank else 1)
    hi = min(RANK_ORD[RANK_CAP[level]], RANK_ORD[tpl.max_rank] if tpl.max_rank else 17)
    if lo > hi:  # over-qualified for the post: keeps the entry rank of the education
        return RANKS[max(entry, hi) - 1]
    return RANKS[rng.randint(lo, hi) - 1]


def _name(gender: Gender, level: EducationLevel, fld: str, rng: random.Random) -> str:
    community = _weighted(rng, COMMUNITY_SHARE)
    male, female, second = NAMES[community]
    if gender is Gender.FEMALE:
        first = rng.choice(female)
        last_pool = second + FEMALE_SECOND.get(community, ())
    else:
        first = rng.choice(male)
        last_pool = second
    parts = [first]
    if community == "melayu" and rng.random() < 0.12:
        parts.insert(0, ("Syarif" if gender is Gender.MALE else "Syarifah") if rng.random() < 0.5
                     else ("Uray" if gender is Gender.MALE else "Utin"))
    if community == "bugis" and rng.random() < 0.3:
        parts.insert(0, "Andi")
    if rng.random() < 0.35:
        middle = rng.choice(female if gender is Gender.FEMALE else male)
        if middle != first:
            parts.append(middle)
    last = rng.choice(last_pool)
    if last not in parts:
        parts.append(last)
    name = " ".join(parts)
    prefix = ""
    degree = ""
    if level is E.D3:
        degree = DEGREE_D3.get(fld, "A.Md.")
    elif level in (E.D4, E.S1, E.S2, E.S3):
        if fld == "Kedokteran":
            prefix = "dr. "
        elif fld.startswith("Pendidikan") or fld == "Manajemen Pendidikan":
            degree = "S.Pd."
        else:
            degree = DEGREE_S1.get(fld, "S.Sos." if level is not E.D4 else "S.Tr.")
        if level in (E.S2, E.S3):
            group = ("health" if (fld in DEGREE_S1 and DEGREE_S1[fld].startswith(("S.K", "S.Gz", "S.Farm", "S.Tr.K")))
                     or fld == "Kedokteran" else "edu" if degree == "S.Pd." else "law" if degree == "S.H."
                     else "tech" if degree == "S.T." else "other")
            degree = f"{degree}, {DEGREE_S2[group]}" if degree else DEGREE_S2[group]
            if level is E.S3:
                prefix = "Dr. " + prefix
    return f"{prefix}{name}, {degree}" if degree else f"{prefix}{name}"


def _nip(ctx: Context, birth: dt.date, tmt: dt.date, gender: Gender) -> str:
    prefix = (f"{birth.year:04d}{birth.month:02d}{birth.day:02d}{tmt.year:04d}{tmt.month:02d}"
              f"{1 if gender is Gender.MALE else 2}")
    serial = ctx.serials.get(prefix, 0) + 1
    if serial > 999:
        raise AssertionError(f"more than 999 NIPs share the prefix {prefix}")
    ctx.serials[prefix] = serial
    return f"{prefix}{serial:03d}"


def _dates(
    ctx: Context, tpl: Template, status: EmployeeStatus, rank: Golongan | None, level: EducationLevel, flags: Flags,
) -> tuple[dt.date, dt.date]:
    """Birth date and TMT CPNS: age 18-35 at TMT, 22 to just under BUP on as_of, service fits the rank."""
    rng, as_of = ctx.rng, ctx.as_of
    bup = tpl.bup
    min_tmt_age = MIN_AGE_AT_TMT[level] + 0.1  # TMT is rounded down to the 1st: keeps the minimum
    if status is EmployeeStatus.CPNS:
        tmt = add_months(_month_start(as_of), -rng.randint(1, 17))
    elif status is EmployeeStatus.PPPK:
        tmt = add_months(_month_start(as_of), -rng.randint(6, 90))
    else:
        tmt = None
    if tmt is not None:
        service = (as_of - tmt).days / 365.2425
        age_tmt = rng.uniform(max(min_tmt_age, 22.05 - service), 34.9)
        birth = tmt - _years(age_tmt)
        return birth, tmt
    if flags.close_to_retirement:
        age = bup - rng.uniform(0.05, 0.95)
        age_tmt = rng.uniform(min_tmt_age, min(32.0, age - 20))
    else:
        steps = RANK_ORD[rank] - RANK_ORD[ENTRY_RANK[level]] if rank else 0
        service = max(0, steps) * 4 + rng.uniform(1.2, 4.0)
        if rng.random() < 0.6:
            service += rng.uniform(0, 22)  # promotion slowed or stopped at the top of the range
        age_tmt = rng.uniform(min_tmt_age, 34.9)
        age = age_tmt + service
        top = bup - 1.05  # leave "close to retirement" to the flagged people
        if age > top:
            age_tmt = max(min_tmt_age, age_tmt - (age - top))
            age = min(age_tmt + service, top)
        age = max(age, 22.05, age_tmt + 1.2)
    birth = as_of - _years(age)
    tmt = _month_start(birth + _years(age_tmt))
    if (as_of - tmt).days < 400:  # a PNS has served at least a year as CPNS
        tmt = add_months(_month_start(as_of), -14)
    return birth, tmt


def _training(name: str, completed: dt.date, validity: int | None, hours: float | None) -> dict[str, Any]:
    expires = add_years(completed, validity) if validity else None
    return {"name": name, "completed": completed, "expires": expires, "hours": hours}


def _between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return start
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


# Earlier rungs of a structural career, oldest first (the current post is the next rung).
CAREER_LADDER = {
    "struktural-jpt": ("pelaksana", "struktural-pengawas", "struktural-administrator", "struktural-jpt"),
    "struktural-administrator": ("pelaksana", "struktural-pengawas", "struktural-administrator"),
    "struktural-pengawas": ("pelaksana", "struktural-pengawas"),
}


def _history(
    ctx: Context, pos: PositionPlan, tmt: dt.date, start: dt.date, flags: Flags,
) -> list[dict[str, Any]]:
    """Earlier posts from TMT CPNS to the day before the current post, oldest first.

    Structural officials climb a ladder (pelaksana, pengawas, administrator...); others held
    posts of their own family elsewhere. Health-educated staff now in surplus units began in
    a health post, which is what makes them plausible candidates for the health shortage.
    """
    rng = ctx.rng
    span = (start - tmt).days
    if span < 180:
        return []
    ladder = CAREER_LADDER.get(pos.template.family, (pos.template.family,))
    if flags.health_target is not None:
        ladder = (flags.health_target.family.removesuffix("-vaksin"), pos.template.family)
    wanted = len(ladder) if len(ladder) > 1 else 1 + rng.randint(0, 2)
    n = max(1, min(wanted, int(span / 365.2425 / 2)))
    cuts = sorted(rng.sample(range(90, span - 30), n - 1)) if n > 1 else []
    bounds = [tmt, *[tmt + dt.timedelta(days=c) for c in cuts], start]
    out: list[dict[str, Any]] = []
    for i in range(len(bounds) - 1):
        seg_start, seg_end = bounds[i], bounds[i + 1] - dt.timedelta(days=1)
        # With fewer segments than rungs, skip the lowest rungs, keep the latest ones.
        family = ladder[len(ladder) - n + i] if n <= len(ladder) else ladder[-1]
        pool = ctx.positions_by_family.get(family, []) + ctx.positions_by_family.get(f"{family}-vaksin", [])
        pool = pool or ctx.positions_by_family.get("pelaksana", [])
        other = [p for p in pool[:40] if p.unit.id != pos.unit.id] or pool
        prev = rng.choice(other)
        out.append({"position_name": prev.name, "unit_id": prev.unit.id, "position_id": prev.id,
                    "start": seg_start, "end": seg_end})
    return out


def _competencies(tpl: Template, flags: Flags, rng: random.Random) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, kind, min_level in tpl.competencies:
        delta = _weighted(rng, ((-1, 0.08), (0, 0.5), (1, 0.35), (2, 0.07)))
        out[name] = {"name": name, "kind": kind.value, "level": str(min(5, max(1, min_level + delta)))}
    if flags.health_target is not None:  # kept from education and earlier health posts
        for name, kind, min_level in flags.health_target.competencies:
            level = max(int(out[name]["level"]) if name in out else 0, min(5, min_level + rng.choice((0, 0, 1))))
            out[name] = {"name": name, "kind": kind.value, "level": str(level)}
    if rng.random() < 0.4:
        extra = rng.choice(("Komunikasi", "Kerja Sama", "Orientasi pada Hasil", "Mengelola Perubahan"))
        if extra not in out:
            out[extra] = {"name": extra, "kind": CK.MANAJERIAL.value, "level": str(rng.randint(1, 3))}
    return list(out.values())


def _trainings_and_certificates(
    ctx: Context, pos: PositionPlan, status: EmployeeStatus, tmt: dt.date, start: dt.date, flags: Flags,
    level: EducationLevel, fld: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng, as_of = ctx.rng, ctx.as_of
    tpl = pos.template
    last = as_of - dt.timedelta(days=1)
    trainings: list[dict[str, Any]] = []
    if status is EmployeeStatus.PPPK:
        trainings.append(_training("Orientasi PPPK", _between(rng, tmt, min(last, tmt + dt.timedelta(days=120))),
                                   None, 24.0))
    elif status is EmployeeStatus.PNS or ((as_of - tmt).days > 200 and rng.random() < 0.6):
        done = min(last, tmt + dt.timedelta(days=rng.randint(120, 330)))
        trainings.append(_training("Pelatihan Dasar CPNS", done, None, 378.0))
    health = tpl.family in PROF and PROF[tpl.family].health
    for name in tpl.trainings:
        if name == TRAINING_VAKSINATOR:
            if rng.random() < 0.12:
                continue  # vaccination staff still untrained: part of the shortage
            years_valid = TRAINING_VALIDITY[name]
            if rng.random() < 0.1:  # trained once, certificate lapsed
                done = _between(rng, add_years(as_of, -years_valid - 3),
                                add_years(as_of, -years_valid) - dt.timedelta(days=1))
            else:
                done = _between(rng, add_years(as_of, -years_valid) + dt.timedelta(days=1), last)
            trainings.append(_training(name, done, years_valid, TRAINING_HOURS[name]))
        elif pos.role == "staff" or rng.random() < 0.92:
            done = _between(rng, max(tmt, start - dt.timedelta(days=6 * 365)), last)
            trainings.append(_training(name, done, TRAINING_VALIDITY.get(name), TRAINING_HOURS.get(name, 40.0)))
    if flags.vaksinator_trained:
        done = _between(rng, as_of - dt.timedelta(days=9 * 365), last)
        trainings.append(_training(TRAINING_VAKSINATOR, done, TRAINING_VALIDITY[TRAINING_VAKSINATOR], 40.0))
    pool = HEALTH_TRAININGS if health or flags.health_educated else GENERAL_TRAININGS
    for name, hours, validity in rng.sample(pool, rng.randint(0, 2)):
        done = _between(rng, max(tmt, as_of - dt.timedelta(days=10 * 365)), last)
        trainings.append(_training(name, done, validity, hours))

    certificates: list[dict[str, Any]] = []
    wants = list(tpl.certificates)
    if flags.holds_str:
        wants.append(CERT_STR)
    for name in dict.fromkeys(wants):
        if name == CERT_STR:
            if not flags.holds_str and rng.random() < 0.02:
                continue
            if not flags.holds_str and rng.random() < 0.06:  # issued under the old 5-year rule, never renewed
                done = _between(rng, add_years(as_of, -12), add_years(as_of, -5) - dt.timedelta(days=30))
            else:  # a lifetime STR (UU 17/2023) or a 5-year one still running
                done = _between(rng, max(tmt - dt.timedelta(days=365), add_years(as_of, -5) + dt.timedelta(days=1)),
                                last)
            validity = None if done >= STR_LIFETIME_FROM else 5
            certificates.append(_training(name, done, validity, None))
        elif name == CERT_PENDIDIK:
            if rng.random() < (0.72 if status is EmployeeStatus.PNS else 0.35):
                certificates.append(_training(name, _between(rng, max(tmt, dt.date(2008, 1, 1)), last), None, None))
        elif name == CERT_PBJ:
            if rng.random() < 0.9:
                certificates.append(_training(name, _between(rng, as_of - dt.timedelta(days=6 * 365), last), 4, None))
        else:
            certificates.append(_training(name, _between(rng, tmt, last), None, None))
    return trainings, certificates


PREDIKAT_WEIGHTS = ((Predikat.BAIK, 0.8), (Predikat.SANGAT_BAIK, 0.16), (Predikat.BUTUH_PERBAIKAN, 0.04))
BELOW_BAIK = ((Predikat.BUTUH_PERBAIKAN, 0.7), (Predikat.KURANG, 0.25), (Predikat.SANGAT_KURANG, 0.05))


def _performance(ctx: Context, tmt: dt.date, flags: Flags) -> list[dict[str, Any]]:
    rng = ctx.rng
    years = [y for y in range(ctx.as_of.year - 3, ctx.as_of.year) if tmt <= dt.date(y, 6, 30)]
    out = []
    for y in years:
        predikat = _weighted(rng, PREDIKAT_WEIGHTS)
        if flags.below_baik and y == years[-1]:
            predikat = _weighted(rng, BELOW_BAIK)
        elif predikat is Predikat.BUTUH_PERBAIKAN and y == years[-1] and not flags.below_baik:
            predikat = Predikat.BAIK  # keep "latest below Baik" to the flagged few
        out.append({"year": y, "predikat": predikat.value})
    return out


def _sanctions(ctx: Context, tmt: dt.date, flags: Flags) -> list[dict[str, Any]]:
    """A served sanction in the past and/or one still running on as_of, both after TMT CPNS."""
    rng, as_of = ctx.rng, ctx.as_of
    out = []
    if flags.past_sanction:
        start = _between(rng, max(tmt + dt.timedelta(days=60), add_years(as_of, -7)), as_of - dt.timedelta(days=200))
        if rng.random() < 0.6:
            out.append({"level": SanctionLevel.RINGAN.value, "description": "Teguran tertulis", "start": start,
                        "end": start})
        else:
            out.append({"level": SanctionLevel.SEDANG.value,
                        "description": "Pemotongan tunjangan kinerja 25% selama 6 bulan", "start": start,
                        "end": add_months(start, 6) - dt.timedelta(days=1)})
    if flags.active_sanction:
        months = rng.choice((6, 9, 12))
        start = as_of - dt.timedelta(days=rng.randint(10, months * 30 - 20))
        if rng.random() < 0.7:
            level, text = SanctionLevel.SEDANG, f"Pemotongan tunjangan kinerja 25% selama {months} bulan"
        else:
            level, text = SanctionLevel.BERAT, "Penurunan jabatan setingkat lebih rendah selama 12 bulan"
            months = 12
        out.append({"level": level.value, "description": text, "start": start,
                    "end": add_months(start, months) - dt.timedelta(days=1)})
    return out


def _employee(ctx: Context, pos: PositionPlan, status: EmployeeStatus, flags: Flags) -> dict[str, Any]:
    """One employee record (plain data, validated with the whole dataset) for one seat of ``pos``."""
    rng, as_of = ctx.rng, ctx.as_of
    tpl = pos.template
    gender = Gender.FEMALE if rng.random() < tpl.female_share else Gender.MALE
    level, fld = _education(tpl, flags, rng)
    if fld == "Kebidanan":
        gender = Gender.FEMALE  # midwifery schools admit women only
    rank = None
    if status is EmployeeStatus.CPNS:
        rank = ENTRY_RANK[level]
    elif status is EmployeeStatus.PNS:
        rank = _rank(tpl, level, rng)
        if flags.health_target is not None:
            lo, hi = _rank_window(level, tpl, flags.health_target)
            rank = RANKS[rng.randint(lo, hi) - 1]
    birth, tmt = _dates(ctx, tpl, status, rank, level, flags)
    if flags.close_to_retirement and tpl.max_rank is not None and status is EmployeeStatus.PNS \
            and flags.health_target is None:  # a long career ends at the top of the post's range
        rank = RANKS[max(RANK_ORD[ENTRY_RANK[level]], min(RANK_ORD[tpl.max_rank], RANK_ORD[RANK_CAP[level]])) - 1]
    nip = _nip(ctx, birth, tmt, gender)

    if status is EmployeeStatus.PNS:
        service = (as_of - tmt).days
        tenure_years = _weighted(rng, ((rng.uniform(0.1, 2.0), 0.22), (rng.uniform(2.0, 5.0), 0.48),
                                       (rng.uniform(5.0, 12.0), 0.30)))
        if flags.health_educated:
            tenure_years = rng.uniform(2.2, 8.0)
        tenure = min(round(tenure_years * 365.2425), max(0, service - 30))
        start = as_of - dt.timedelta(days=tenure)
    else:
        start = tmt
    history = _history(ctx, pos, tmt, start, flags) if status is EmployeeStatus.PNS else []
    trainings, certificates = _trainings_and_certificates(ctx, pos, status, tmt, start, flags, level, fld)

    willing: bool | None = _weighted(rng, ((None, 0.77), (True, 0.15), (False, 0.08)))
    preferred: list[str] = []
    if flags.health_educated:
        willing = _weighted(rng, ((True, 0.6), (None, 0.3), (False, 0.1)))
        if willing and ctx.puskesmas_ids and rng.random() < 0.5:
            preferred = sorted(rng.sample(ctx.puskesmas_ids, min(2, len(ctx.puskesmas_ids))))
    return {
        "nip": nip,
        "name": _name(gender, level, fld, rng),
        "status": status.value,
        "gender": gender.value,
        "birth_date": birth,
        "rank": rank.value if rank else None,
        "position_id": pos.id,
        "unit_id": pos.unit.id,
        "position_start": start,
        "education": {"level": level.value, "field": fld},
        "competencies": _competencies(tpl, flags, rng),
        "trainings": trainings,
        "certificates": certificates,
        "performance": _performance(ctx, tmt, flags),
        "sanctions": _sanctions(ctx, tmt, flags),
        "under_investigation": flags.investigation,
        "position_history": history,
        "preferences": {"willing_to_move": willing, "preferred_unit_ids": preferred},
    }


def _choose(rng: random.Random, pool: list[int], rate: float, minimum: int) -> set[int]:
    count = min(len(pool), max(minimum, round(rate * len(pool))))
    return set(rng.sample(pool, count))


# --------------------------------------------------------------------------- public API


def generate_dataset(
    employees: int = 7000,
    seed: int = 1,
    as_of: dt.date = dt.date(2026, 7, 1),
    *,
    candidate_determination: dt.date | None = None,
    inauguration: dt.date | None = None,
) -> Dataset:
    """A synthetic Kota Pontianak dataset with ``employees`` people, the same for the same arguments.

    The election calendar is empty unless ``candidate_determination`` / ``inauguration`` are given.
    Raises ``ValueError`` when ``employees`` is below :data:`MIN_EMPLOYEES` (every unit needs staff).
    """
    if employees < MIN_EMPLOYEES:
        raise ValueError(f"employees must be at least {MIN_EMPLOYEES} to staff every unit, got {employees}")
    # Millions of small, acyclic objects: the cyclic collector only slows this down.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(employees, seed, as_of, candidate_determination, inauguration)
    finally:
        if was_enabled:
            gc.enable()


def _generate(
    employees: int, seed: int, as_of: dt.date, candidate_determination: dt.date | None,
    inauguration: dt.date | None,
) -> Dataset:
    rng = random.Random(seed)
    ctx = Context(rng=rng, as_of=as_of)

    units = _plan_units(employees, rng)
    positions = _plan_positions(units, employees, rng)
    for pos in positions:
        ctx.positions_by_family.setdefault(pos.template.family, []).append(pos)
        pos.tasks = _tasks_for(pos, rng)
    # A few posts have not had a workload analysis yet (tasks unknown, not zero).
    no_data = [i for i, p in enumerate(positions)
               if p.role == "staff" and not p.template.programmes and p.unit.opd_id not in SURPLUS_OPD]
    for i in sorted(_choose(rng, no_data, 0.03, 1)):
        positions[i].tasks = None
    ctx.puskesmas_ids = [u.id for u in units if u.kind is UnitKind.PUSKESMAS]

    seen: set[str] = set()
    for pos in positions:
        if pos.id in seen:
            raise AssertionError(f"generator bug: position id {pos.id} is used twice")
        seen.add(pos.id)

    slots = [pos for pos in positions for _ in range(pos.staff)]
    statuses = [_status(pos.template, pos.role, rng) for pos in slots]
    pns = [i for i, s in enumerate(statuses) if s is EmployeeStatus.PNS]
    flags = [Flags() for _ in slots]
    # Health-educated people in surplus pelaksana posts that accept any field of study.
    surplus_pelaksana = [i for i in pns if slots[i].unit.opd_id in SURPLUS_OPD and slots[i].role == "staff"
                         and slots[i].template.kind is K.PELAKSANA and not slots[i].template.fields]
    health = []
    for i in sorted(_choose(rng, surplus_pelaksana, 0.15, 6)):
        current = slots[i].template
        options = [(t, w) for t, w in VACCINATION_TARGETS
                   if EDU_ORD[t.min_education] >= EDU_ORD[current.min_education]
                   and _rank_window(t.min_education, current, t)[0] <= _rank_window(t.min_education, current, t)[1]]
        if options:
            flags[i].health_educated = True
            flags[i].health_target = _weighted(rng, options)
            health.append(i)
    # Most lack the vaccinator training; some nurses and midwives hold an STR.
    for i in _choose(rng, health, 0.2, 1):
        flags[i].vaksinator_trained = True
    clinical = [i for i in health
                if (target := flags[i].health_target) is not None and CERT_STR in target.certificates]
    for i in _choose(rng, clinical, 0.5, 1):
        flags[i].holds_str = True
    for attr, rate in (("close_to_retirement", 0.025), ("active_sanction", 0.008), ("past_sanction", 0.01),
                       ("investigation", 0.004), ("below_baik", 0.025)):
        for i in _choose(rng, pns, rate, 1):
            setattr(flags[i], attr, True)

    people = [_employee(ctx, pos, status, f) for pos, status, f in zip(slots, statuses, flags, strict=True)]
    metadata = {
        "name": DATASET_NAME,
        "as_of": as_of,
        "description": (
            f"Data sintetis Pemerintah Kota Pontianak: {employees} pegawai, {len(positions)} jabatan, "
            f"{len(units)} unit. Dinas Kesehatan kekurangan pegawai untuk program vaksinasi; Sekretariat Daerah, "
            "Disdukcapil dan Dinas Perhubungan kelebihan pelaksana. Nama dan data pribadi rekaan."
        ),
        "source": f"mutasi_rules.generator.generate_dataset(employees={employees}, seed={seed}, as_of={as_of})",
        "effective_hours_per_year": EFFECTIVE_HOURS,
        "election": {"candidate_determination": candidate_determination, "inauguration": inauguration},
    }
    return Dataset.model_validate({
        "schema_version": "1",
        "metadata": metadata,
        "units": [{"id": u.id, "name": u.name, "kind": u.kind.value, "parent_id": u.parent_id} for u in units],
        "positions": [_position_record(p) for p in positions],
        "employees": people,
    })


# --------------------------------------------------------------------------- many regions


#: The 14 regencies and cities of Kalimantan Barat: the names of a generated province's regions.
KALIMANTAN_BARAT = (
    "Kabupaten Bengkayang", "Kabupaten Kapuas Hulu", "Kabupaten Kayong Utara", "Kabupaten Ketapang",
    "Kabupaten Kubu Raya", "Kabupaten Landak", "Kabupaten Melawi", "Kabupaten Mempawah", "Kabupaten Sambas",
    "Kabupaten Sanggau", "Kabupaten Sekadau", "Kabupaten Sintang", "Kota Pontianak", "Kota Singkawang",
)
#: Spread of regional civil-service sizes: log-normal, so that a few regions are three to five
#: times the median and most are near it, as the size of regional governments is.
REGION_SIZE_SIGMA = 0.55


@dataclass(frozen=True)
class GeneratedRegion:
    """One region of a generated province or country: folder name, display name, size, seed."""

    slug: str
    name: str
    employees: int
    seed: int


def region_sizes(regions: int, employees_total: int, seed: int) -> list[int]:
    """Unequal region sizes summing to ``employees_total``, each at least :data:`MIN_EMPLOYEES`."""
    if regions < 1:
        raise ValueError(f"regions must be at least 1, got {regions}")
    if employees_total < regions * MIN_EMPLOYEES:
        raise ValueError(f"{employees_total} employees cannot staff {regions} regions: each needs at least "
                         f"{MIN_EMPLOYEES} (so at least {regions * MIN_EMPLOYEES} in all)")
    rng = random.Random(f"region-sizes:{seed}")
    weights = [rng.lognormvariate(0.0, REGION_SIZE_SIGMA) for _ in range(regions)]
    return apportion(employees_total, weights, [MIN_EMPLOYEES] * regions)


def plan_regions(regions: int, employees_total: int, seed: int) -> list[GeneratedRegion]:
    """The regions :func:`generate_regions` makes: Kalimantan Barat's names first, then numbered ones."""
    width = len(str(regions))
    plans = []
    for i, size in enumerate(region_sizes(regions, employees_total, seed)):
        name = KALIMANTAN_BARAT[i] if regions <= len(KALIMANTAN_BARAT) else f"Wilayah Sintetis {i + 1:0{width}d}"
        plans.append(GeneratedRegion(slug=f"{i + 1:0{width}d}-{_slug(name)}", name=name, employees=size,
                                     seed=seed * 1_000_003 + i + 1))
    return plans


def generate_regions(regions: int, employees_total: int, seed: int = 1, as_of: dt.date = dt.date(2026, 7, 1),
                     ) -> Iterator[tuple[GeneratedRegion, Dataset]]:
    """A synthetic province or country: one dataset per region, generated one at a time.

    Each region is a Kota Pontianak-shaped government (the same OPDs, programmes and
    surplus/shortage pattern) of its own size and seed, named after the region; the same
    arguments give the same regions and bytes.
    """
    plans = plan_regions(regions, employees_total, seed)
    for i, plan in enumerate(plans):
        dataset = generate_dataset(plan.employees, plan.seed, as_of)
        metadata = dataset.metadata.model_copy(update={
            "name": f"{plan.name} (contoh sintetis)",
            "description": (
                f"Data sintetis {plan.name}: {plan.employees} pegawai, wilayah {i + 1} dari {regions} "
                f"({employees_total} pegawai seluruhnya), disusun dengan pola Kota Pontianak. "
                "Nama dan data pribadi rekaan."
            ),
            "source": (f"mutasi_rules.generator.generate_regions(regions={regions}, "
                       f"employees_total={employees_total}, seed={seed}, as_of={as_of}) region {i + 1}"),
        })
        yield plan, dataset.model_copy(update={"metadata": metadata})
