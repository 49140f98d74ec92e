"""Published shapes the synthetic population follows, rounded, and the code lists it uses.

Sources (see docs/synthetic.md):
- age pyramid and sex by age: INSEE, population estimates by sex and 5-year age group at
  1 January 2024 (France), shares rounded to 0.1 %;
- mortality by age: INSEE life tables 2021-2023, annual death probability approximated by a
  Gompertz curve q(x) = exp(-10.8 + 0.095 x), floored at 0.0002 (0.0035 in the first year);
- outpatient claims and hospital stays per person and year by age: relative shape of the
  Assurance Maladie and ATIH (PMSI MCO) consumption profiles, scaled to about 12 claims and
  0.18 MCO stays per inhabitant and year;
- monthly seasonality of admissions and share of same-day stays (about half): ATIH activity reports.
The values are rounded orders of magnitude, good for realistic shapes, not for epidemiology.
"""
from __future__ import annotations

import numpy as np

# 5-year age groups 0-4 ... 95-99 (100 = open-ended 100+ folded into 95-99): share of population, share of men.
AGE_GROUP_SHARE = np.array([
    4.9, 5.6, 6.1, 6.2, 5.9, 5.6, 5.9, 6.2, 6.3, 6.3, 6.6, 6.6, 6.3, 5.9, 5.6, 4.4, 3.1, 2.0, 1.0, 0.3,
])
AGE_GROUP_SHARE = AGE_GROUP_SHARE / AGE_GROUP_SHARE.sum()
MALE_SHARE_BY_GROUP = np.array([
    0.512, 0.512, 0.512, 0.511, 0.507, 0.495, 0.490, 0.489, 0.492, 0.494, 0.493, 0.488, 0.483, 0.474, 0.468,
    0.455, 0.433, 0.392, 0.320, 0.230,
])
# Relative claims and stays per year, by the same age groups.
CLAIMS_PER_YEAR = np.array([12, 6, 6, 6, 6, 7, 8, 8, 9, 10, 11, 12, 14, 17, 20, 24, 28, 30, 32, 32], dtype=float)
STAYS_PER_YEAR = np.array([
    0.20, 0.06, 0.06, 0.08, 0.09, 0.11, 0.12, 0.11, 0.11, 0.12, 0.14, 0.17, 0.21, 0.26, 0.30, 0.37, 0.45, 0.53,
    0.60, 0.60,
])
ADMISSION_MONTH_WEIGHT = np.array([1.12, 1.05, 1.05, 0.98, 0.97, 0.98, 0.88, 0.82, 0.98, 1.02, 1.05, 1.10])
SAME_DAY_STAY_SHARE = 0.48
MAX_NATURAL_AGE = 104


def annual_death_probability(age: np.ndarray) -> np.ndarray:
    q = np.exp(-10.8 + 0.095 * age)
    return np.clip(np.where(age == 0, 0.0035, q), 0.0002, 0.5)


SEX = {1: "MASCULIN", 2: "FEMININ", 0: "INCONNU OU PERSONNE MORALE SANS CIVILITE", 9: "VALEUR INCONNUE"}

DEPARTMENTS = {
    "001": "Ain", "002": "Aisne", "003": "Allier", "004": "Alpes-de-Haute-Provence", "005": "Hautes-Alpes",
    "006": "Alpes-Maritimes", "007": "Ardèche", "008": "Ardennes", "009": "Ariège", "010": "Aube", "011": "Aude",
    "012": "Aveyron", "013": "Bouches-du-Rhône", "014": "Calvados", "015": "Cantal", "016": "Charente",
    "017": "Charente-Maritime", "018": "Cher", "019": "Corrèze", "02A": "Corse-du-Sud", "02B": "Haute-Corse",
    "021": "Côte-d'Or", "022": "Côtes-d'Armor", "023": "Creuse", "024": "Dordogne", "025": "Doubs", "026": "Drôme",
    "027": "Eure", "028": "Eure-et-Loir", "029": "Finistère", "030": "Gard", "031": "Haute-Garonne", "032": "Gers",
    "033": "Gironde", "034": "Hérault", "035": "Ille-et-Vilaine", "036": "Indre", "037": "Indre-et-Loire",
    "038": "Isère", "039": "Jura", "040": "Landes", "041": "Loir-et-Cher", "042": "Loire", "043": "Haute-Loire",
    "044": "Loire-Atlantique", "045": "Loiret", "046": "Lot", "047": "Lot-et-Garonne", "048": "Lozère",
    "049": "Maine-et-Loire", "050": "Manche", "051": "Marne", "052": "Haute-Marne", "053": "Mayenne",
    "054": "Meurthe-et-Moselle", "055": "Meuse", "056": "Morbihan", "057": "Moselle", "058": "Nièvre", "059": "Nord",
    "060": "Oise", "061": "Orne", "062": "Pas-de-Calais", "063": "Puy-de-Dôme", "064": "Pyrénées-Atlantiques",
    "065": "Hautes-Pyrénées", "066": "Pyrénées-Orientales", "067": "Bas-Rhin", "068": "Haut-Rhin", "069": "Rhône",
    "070": "Haute-Saône", "071": "Saône-et-Loire", "072": "Sarthe", "073": "Savoie", "074": "Haute-Savoie",
    "075": "Paris", "076": "Seine-Maritime", "077": "Seine-et-Marne", "078": "Yvelines", "079": "Deux-Sèvres",
    "080": "Somme", "081": "Tarn", "082": "Tarn-et-Garonne", "083": "Var", "084": "Vaucluse", "085": "Vendée",
    "086": "Vienne", "087": "Haute-Vienne", "088": "Vosges", "089": "Yonne", "090": "Territoire de Belfort",
    "091": "Essonne", "092": "Hauts-de-Seine", "093": "Seine-Saint-Denis", "094": "Val-de-Marne",
    "095": "Val-d'Oise", "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion",
    "976": "Mayotte",
}

# Nature of care (illustrative subset of IR_NAT_V), with a typical share of claims and a median amount (EUR).
CARE_NATURES = {
    1111: ("CONSULTATION MEDECIN GENERALISTE", 0.30, 26.5),
    1112: ("CONSULTATION MEDECIN SPECIALISTE", 0.12, 50.0),
    1211: ("VISITE MEDECIN GENERALISTE", 0.03, 35.0),
    3111: ("PHARMACIE VIGNETTE BLANCHE", 0.30, 18.0),
    3313: ("ACTES DE BIOLOGIE", 0.12, 22.0),
    3411: ("ACTES INFIRMIERS", 0.08, 9.0),
    3511: ("ACTES DE KINESITHERAPIE", 0.05, 17.0),
}
# Prescriber or performer speciality (subset of IR_SPE_V).
SPECIALITIES = {
    1: "MEDECINE GENERALE", 2: "ANESTHESIOLOGIE", 3: "CARDIOLOGIE", 4: "CHIRURGIE GENERALE", 5: "DERMATOLOGIE",
    6: "RADIOLOGIE", 7: "GYNECOLOGIE OBSTETRIQUE", 8: "GASTRO-ENTEROLOGIE", 9: "MEDECINE INTERNE",
    11: "OTO-RHINO-LARYNGOLOGIE", 12: "PEDIATRIE", 13: "PNEUMOLOGIE", 14: "RHUMATOLOGIE", 15: "OPHTALMOLOGIE",
    17: "PSYCHIATRIE", 32: "NEUROLOGIE",
}
# ICD-10 categories (subset of IR_CIM_V) used as main diagnoses and underlying causes of death.
ICD10 = {
    "A41": "Autres sepsis", "C18": "Tumeur maligne du côlon", "C34": "Tumeur maligne des bronches et du poumon",
    "C50": "Tumeur maligne du sein", "C61": "Tumeur maligne de la prostate", "E11": "Diabète sucré de type 2",
    "E86": "Hypovolémie", "F10": "Troubles mentaux liés à l'alcool", "F32": "Épisode dépressif",
    "G30": "Maladie d'Alzheimer", "G40": "Épilepsie", "I10": "Hypertension essentielle",
    "I20": "Angine de poitrine", "I21": "Infarctus aigu du myocarde", "I48": "Fibrillation et flutter auriculaires",
    "I50": "Insuffisance cardiaque", "I63": "Infarctus cérébral", "I70": "Athérosclérose",
    "J18": "Pneumopathie, micro-organisme non précisé", "J44": "Autres maladies pulmonaires obstructives chroniques",
    "K35": "Appendicite aiguë", "K80": "Lithiase biliaire", "K92": "Autres maladies du système digestif",
    "M16": "Coxarthrose", "M17": "Gonarthrose", "N18": "Maladie rénale chronique",
    "N39": "Autres affections de l'appareil urinaire",
    "O80": "Accouchement unique et spontané", "R10": "Douleur abdominale et pelvienne", "R55": "Syncope et collapsus",
    "S72": "Fracture du fémur", "S06": "Lésion traumatique intracrânienne", "Z51": "Autres soins médicaux",
    "H25": "Cataracte sénile", "K40": "Hernie inguinale",
}
DEATH_CAUSES = ["C34", "C18", "C50", "C61", "I21", "I50", "I63", "G30", "J18", "J44", "A41", "E11", "N18", "S06", "F10"]
GHM = ["05M091", "04M053", "06C041", "08C481", "14Z14A", "23M101", "02C05J", "11M041", "28Z07Z", "01M301"]
DEATH_PLACES = {1: "Domicile", 2: "Hôpital ou clinique", 3: "Maison de retraite", 4: "Voie publique", 5: "Autre lieu"}
