"""Every word the catalogue shows people, in French. `en.py` has the same keys (a test checks it)."""

WORDS = {
    "language": "fr",
    # the site's frame
    "site": "Catalogue des bases de données de santé", "home": "Accueil", "skip": "Aller au contenu",
    "breadcrumb": "Fil d'Ariane", "search": "Recherche",
    "search_label": "Rechercher dans le catalogue", "filter_source": "Base", "filter_kind": "Type de page",
    "kind_database": "base", "kind_table": "table", "kind_variable": "variable", "kind_code_list": "nomenclature",
    "search_placeholder": "Rechercher une table, une variable, un libellé…",
    "no_result": "Aucun résultat pour [SEARCH_TERM]",
    "search_needs_server": "La recherche fonctionne quand le site est servi par HTTP : hdh-pipeline serve.",
    "intro": "Ce que contient chaque base, la qualité de ses données et sa population, sous secret statistique : "
             "aucun effectif publié n'est inférieur au seuil k, ni ne peut être retrouvé par soustraction.",
    "footer": "Effectifs sous secret statistique (k = {k}) : « masqué » signale un effectif retiré, inférieur à k "
              "ou masqué pour en protéger un autre.",
    # disclosure control
    "hidden": "masqué",
    "hidden_title": "effectif masqué (secret statistique, k = {k}) : inférieur à k, ou masqué pour en protéger "
                    "un autre",
    "hidden_note": "gris : effectif masqué (secret statistique, k = {k}), longueur conventionnelle",
    "hidden_cell": "gris : effectif masqué (secret statistique, k = {k})",
    "withheld": "masqué (secret statistique, k = {k})",
    "statistics_note": "Statistiques sous secret statistique (k = {k}) : « masqué » signale un effectif retiré, "
                       "inférieur à k ou masqué pour en protéger un autre ; les bornes sont les k-ièmes plus petite "
                       "et plus grande valeurs.",
    # a database
    "producer": "Producteur", "contact": "Contact", "licence": "Licence ou conditions d'accès", "access": "Accès",
    "refresh": "Mise à jour", "size": "Taille", "tables": "tables", "variables": "Variables", "rows": "Lignes",
    "population": "Population", "individuals": "individus", "men": "hommes", "women": "femmes",
    "other": "autre ou inconnu", "population_table": "table de population :", "ages": "Âges", "age": "âge (ans)",
    "age_range": "de {low} à {high} ans (médiane {median}), au {date}", "implausible": "âges invraisemblables :",
    "implausible_n": "âge invraisemblable : {n}", "unknown_age_n": "âge inconnu : {n}",
    "ages_at": "{n} individus, âges au {date}",
    "coverage": "Couverture temporelle", "years": "ans", "year": "année",
    "after_reference": "dates après la date de référence :",
    "quality": "Qualité", "checks_passed": "des contrôles réussis", "exports": "Exports", "charts": "Graphiques",
    "join_graph": "Graphe des jointures", "tables_by_product": "Tables par produit", "no_product": "Sans produit",
    "code_lists": "Nomenclatures",
    # the charts
    "chart_pyramid": "Pyramide des âges", "chart_sex": "Répartition par sexe",
    "chart_coverage": "Couverture temporelle", "chart_completeness": "Complétude des variables",
    "chart_quality": "Contrôles de qualité", "tables_failing": "Tables aux contrôles échoués",
    "position": "position de la variable", "share": "part (%)", "complete": "complétude : {pct} %",
    "complete_hidden": "complétude masquée", "codes": "codes : {codes}", "missing_value": "manquant",
    "pyramid_alt": "Pyramide des âges de {title}",
    # a table
    "table": "Table", "title": "Titre", "database": "Base", "name": "Nom", "status": "Statut",
    "completeness": "Complétude",
    "loaded": "chargée", "empty": "vide", "no data": "sans données", "not loaded": "non chargée",
    "product": "Produit", "rejected": "lignes rejetées :", "primary_key": "Clé primaire",
    "unique": "unique", "not_unique": "non unique", "duplicates": "doublons :", "checks": "contrôles",
    "failed_or_error": "échoués ou en erreur", "history": "Historique", "created": "créée :", "deleted": "supprimée :",
    "missing_dates": "périodes manquantes :", "join_keys": "Clés de jointure", "direction": "Sens",
    "columns": "Colonnes", "match": "Correspondance", "none": "aucune",
    "table_summary": "Table {name}{product} : {n} variables, {rows} lignes.", "of_product": " du produit {product}",
    # changes between refreshes
    "changes": "Changements depuis la mise à jour précédente", "change": "Changement", "measure": "Mesure",
    "breaks_dictionary": "ne correspond plus au dictionnaire", "table added": "table ajoutée",
    "table removed": "table disparue", "column added": "variable ajoutée", "column removed": "variable disparue",
    "type changed": "type changé", "row count changed": "nombre de lignes changé",
    "completeness changed": "complétude changée", "distribution shifted": "distribution déplacée",
    "measure_row_count_changed": "variation relative du nombre de lignes > {limit}",
    "measure_completeness_changed": "variation absolue de la complétude > {limit}",
    "measure_distribution_shifted": "distance de variation totale entre les deux distributions > {limit}",
    # a variable
    "variable": "Variable", "description": "Description", "type": "Type", "distinct": "Valeurs distinctes",
    "length": "longueur", "observed": "observé :", "role": "Rôle", "code_list": "Nomenclature",
    "management_rule": "Règle de gestion", "flags": "Indicateurs", "statistics": "Statistiques",
    "non_null": "Valeurs renseignées", "missing": "Manquantes", "approximate": "approximatif", "mean": "Moyenne",
    "std": "Écart-type", "min": "Borne basse (k-ième plus petite valeur)", "p01": "1er centile", "q1": "1er quartile",
    "median": "Médiane", "q3": "3e quartile", "p99": "99e centile", "max": "Borne haute (k-ième plus grande valeur)",
    "min_length": "Longueur minimale", "max_length": "Longueur maximale", "mean_length": "Longueur moyenne",
    "zeros": "Zéros", "negatives": "Négatifs", "after_reference_var": "Après la date de référence",
    "distribution": "Distribution", "chart_numbers": "Les nombres du graphique", "value": "Valeur",
    "is_identifier": "identifiant", "is_quasi_identifier": "quasi-identifiant", "is_unique": "valeurs uniques",
    "is_constant": "constante", "is_mostly_missing": "majoritairement manquante",
    # quality checks
    "quality_checks": "Contrôles de qualité", "check": "Contrôle", "category": "Catégorie (Kahn)",
    "threshold": "Seuil", "severity": "Gravité", "failing": "En échec", "passed": "réussi", "failed": "échoué",
    "error": "en erreur", "not applicable": "sans objet", "conformance": "conformité",
    "completeness_cat": "complétude", "plausibility": "plausibilité", "severity_warning": "avertissement",
    "severity_error": "erreur", "failed_checks": "{n} en échec", "all_passed": "réussis",
    "downloads": "Téléchargements", "catalogue_table": "Table du catalogue", "this_database": "Cette base",
    "every_database": "Toutes les bases", "documentation": "Documentation (Markdown)",
    "variables_csv": "Les variables de cette table (CSV)", "variables_csv_all": "celles de toute la base (CSV)",
    # the glossary (site/glossary.html): a term's definition, by its anchor
    "glossary": "Glossaire", "glossary_intro": "Les termes des pages du catalogue.", "why": "Pourquoi ?",
    "small_source": "Les effectifs de cette base sont masqués : inférieurs au seuil k = {k}, ou masqués pour en "
                    "protéger un autre (secret statistique).",
    "no_access_conditions": "conditions non précisées par le producteur", "access_request": "demander l'accès",
    "access_delay": "délai habituel :", "access_contact": "contact :",
    "def_masked": "Un effectif « masqué » n'est pas publié : il est inférieur au seuil k de la base (secret "
                  "statistique), ou il permettrait d'en retrouver un autre par soustraction.",
    "def_k": "Seuil du secret statistique : aucun effectif publié n'est compris entre 1 et k − 1, ni ne peut être "
             "déduit des autres nombres publiés.",
    "def_bounds": "Bornes basse et haute : la k-ième plus petite et la k-ième plus grande valeur d'une variable, "
                  "pour qu'aucune valeur extrême, propre à moins de k personnes, ne soit publiée.",
    "def_completeness": "Complétude : part des lignes où la variable est renseignée.",
    "def_conformance": "Conformité : part des valeurs qui respectent le format, le type ou la nomenclature "
                       "attendus.",
    "def_plausibility": "Plausibilité : part des valeurs vraisemblables (âges entre 0 et 120 ans, dates non "
                        "postérieures à la date de référence, fin après début…).",
    "def_kahn": "Catégorie (Kahn) : famille d'un contrôle de qualité dans le cadre de Kahn et al. (2016) repris "
                "par OHDSI : conformité, complétude ou plausibilité.",
    "def_match": "Correspondance : part des lignes dont la clé de jointure se retrouve dans la table (ou la "
                 "nomenclature) référencée.",
    "def_direction": "Sens d'une clé de jointure : → la table pointe vers une autre, ← une autre pointe vers elle.",
    "def_code_list": "Nomenclature : liste des codes admis pour une variable et de leurs libellés.",
    "def_primary_key": "Clé primaire : colonnes qui identifient une ligne ; les doublons sont les lignes dont la "
                       "clé est déjà apparue.",
    "def_identifier": "Identifiant : variable dont les valeurs désignent des personnes ou des enregistrements ; "
                      "aucune de ses valeurs n'est publiée. Quasi-identifiant : variable (date, sexe, lieu…) qui, "
                      "croisée avec d'autres, pourrait désigner une personne.",
    "def_other": "(autre) : les valeurs vues moins de k fois, regroupées pour qu'aucune valeur rare ne soit "
                 "nommée.",
    "def_coverage": "Couverture temporelle : de la k-ième date d'événement la plus ancienne à la k-ième plus "
                    "récente, jusqu'à la date de référence.",
    "def_severity": "Gravité d'un contrôle : un avertissement signale, une erreur bloque la validation de la base ; "
                    "le seuil est la part de lignes en échec encore acceptée.",
    "graph_help": "Molette : zoom ; glisser : déplacer ; clic : une table et ses voisines ; double clic : sa page. "
                  "Les cases montrent ou cachent un produit.", "products": "Produits",
    # roles of columns (declarations' `roles`)
    "role_person_id": "identifiant de personne", "role_sex": "sexe", "role_birth_year": "année de naissance",
    "role_birth_date": "date de naissance", "role_age": "âge", "role_death_date": "date de décès",
    "role_event_date": "date d'événement", "role_start_date": "date de début", "role_end_date": "date de fin",
    # a code list
    "code": "Code", "label": "Libellé", "codes_count": "{n} codes.",
    "download_csv": "Télécharger la liste (CSV)", "filter_codes": "Chercher un code ou un libellé :",
    "codes_shown": "{n} codes affichés",
    "used_by": "Utilisée par",
    # the exports
    "population_coverage": "table de population : {table} ; date de référence : {date}",
    "catalogue_title": "Catalogue des bases de données de santé",
    "catalogue_description": "Métadonnées publiques, sous secret statistique, de bases de données de santé.",
    "no_title": "Titre manquant", "no_description": "Description manquante",
    "no_linked_variable": "Aucune variable liée",
    "data_model": "Modèle de données", "example": "Exemple", "properties": "Propriétés",
    "documentation_index": "Tables de {title}, par produit.",
    # Table Schema types, as the SNDS documentation names them
    "type_string": "chaîne de caractères", "type_integer": "nombre entier", "type_number": "nombre réel",
    "type_date": "date", "type_datetime": "date et heure", "type_time": "heure", "type_boolean": "booléen",
    "type_year": "année", "type_yearmonth": "année et mois", "type_duration": "durée", "type_any": "indéterminé",
    # the quality protocol and the EHDS label (database page)
    "documentation_present": "Documentation", "documentation_pct": "renseignée",
    "quality_protocol": "Protocole qualité",
    "protocol_intro": "Les contrôles lancés à chaque rafraîchissement ({schedule}), par catégorie de Kahn et par "
                      "règle, leurs seuils et gravités, et leur taux de réussite aux derniers rafraîchissements. Une "
                      "erreur fait échouer le contrôle dans l'interface Dagster et termine le rafraîchissement avec "
                      "le code 3 ; un avertissement est signalé ; dans les deux cas le catalogue est publié avec le "
                      "résultat.",
    "rule": "Règle", "checks_n": "Contrôles", "thresholds": "Seuils (%)", "pass_rate": "Réussite (%)",
    "pass_rate_history": "Rafraîchissements précédents",
    "quality_label": "Label qualité et utilité (EHDS)",
    "label_intro": "Les éléments du label de qualité et d'utilité des données demandé par le règlement sur l'espace "
                   "européen des données de santé (article 78) : calculés par le catalogue, déclarés par le "
                   "producteur, ou non couverts.",
    "dimension": "Dimension", "element": "Élément", "evidence": "Source", "basis": "Origine",
    "computed": "calculé", "declared": "déclaré", "not covered": "non couvert",
    # days (cron-descriptor's French leaves them in English)
    "Monday": "lundi", "Tuesday": "mardi", "Wednesday": "mercredi", "Thursday": "jeudi", "Friday": "vendredi",
    "Saturday": "samedi", "Sunday": "dimanche",
}
