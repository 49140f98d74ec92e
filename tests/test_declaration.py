"""Source declarations: every mistake names the file and the key; defaults and paths as a user expects."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hdh_pipeline import settings
from hdh_pipeline.sources.loader import DeclarationError, load_source, load_sources, read_declaration
from tests.conftest import REPO_ROOT, declaration


def write(tmp_path: Path, content: dict | str, name: str = "source.yaml") -> Path:
    file = tmp_path / name
    file.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return file


@pytest.mark.parametrize(
    ("content", "key", "says"),
    [
        (declaration(tittle="x"), "tittle", "unknown key"),
        ({k: v for k, v in declaration().items() if k != "licence"}, "licence", "Field required"),
        (declaration(id="Bad-Id"), "id", "not a valid source id"),
        (declaration(update_frequency="every monday"), "update_frequency", "not a valid cron"),
        (declaration(format="xlsx"), "format", "'dta' or 'sav'"),
        (declaration(format="sas7bdat", engine="spark"), "(top level)", "read by the duckdb engine"),
        (declaration(csv={"delimiter": ";;"}), "csv.delimiter", "single character"),
        (declaration(csv={"encoding": "cp1252"}), "csv.encoding", "utf-8"),
        (declaration(type_overrides={"boolean": "TEXTE"}), "type_overrides", "not one of"),
        (declaration(tables={"T": {"roles": {"sexe": "X"}}}), "tables.T.roles.sexe", "unknown key"),
        (declaration(producer="HDH"), "producer", "valid dictionary"),
        (declaration(owners=["data team"]), "owners", "neither an email nor 'team:name'"),
    ],
)
def test_mistakes_name_the_file_and_key(tmp_path: Path, content: dict, key: str, says: str) -> None:
    file = write(tmp_path, content)
    with pytest.raises(DeclarationError) as error:
        read_declaration(file)
    message = str(error.value)
    assert str(file) in message
    assert f"key '{key}'" in message
    assert says in message


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="a declaration is a mapping"):
        read_declaration(write(tmp_path, "- just\n- a list\n"))


def test_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="not valid YAML"):
        read_declaration(write(tmp_path, "id: [unclosed\n"))


def test_defaults(tmp_path: Path) -> None:
    parsed = read_declaration(write(tmp_path, declaration()))
    assert parsed.format == "csv"
    assert (parsed.csv.delimiter, parsed.csv.encoding, parsed.csv.header, parsed.csv.decimal) == (",", "utf-8", True, ".")
    assert parsed.csv.null_values == [""]
    assert parsed.update_frequency == "0 3 * * 1"
    assert "__MACOSX/*" in parsed.exclude


def test_variables_are_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HDH_TEST_ROOT", str(tmp_path / "elsewhere"))
    parsed = read_declaration(write(tmp_path, declaration(location="${HDH_TEST_ROOT}/files", title="${NOT_SET:-Fallback}")))
    assert parsed.location == f"{tmp_path}/elsewhere/files"
    assert parsed.title == "Fallback"


def test_unset_variable_names_key(tmp_path: Path) -> None:
    file = write(tmp_path, declaration(location="${HDH_SURELY_UNSET}/x"))
    with pytest.raises(DeclarationError, match=r"key 'location' uses \$\{HDH_SURELY_UNSET\}"):
        read_declaration(file)


def test_relative_paths_resolve_against_the_declaration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "decl" / "files").mkdir(parents=True)
    (tmp_path / "decl" / "files" / "T.csv").write_text("a\n1\n")
    file = write(tmp_path / "decl", declaration(location="files"))
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    source = load_source(file)
    assert source.location == tmp_path / "decl" / "files"
    assert [t.name for t in source.tables] == ["T"]


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    first, second = write(tmp_path, declaration(), "a.yaml"), write(tmp_path, declaration(), "b.yaml")
    with pytest.raises(DeclarationError, match=f"{second}: key 'id': 'src' is already declared in {first}"):
        load_sources([first, second])


def test_hdh_sources_adds_to_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = write(tmp_path, declaration(), "extra.yaml")
    monkeypatch.setenv("HDH_SOURCES", f"{tmp_path}/*.yaml")
    files = settings.declaration_files()
    assert files[-1] == extra
    assert (REPO_ROOT / "assets" / "sources" / "demo.yaml").resolve() in files


def test_hdh_sources_pattern_that_matches_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HDH_SOURCES", f"{tmp_path}/nothing-*.yaml")
    with pytest.raises(FileNotFoundError, match="matches no file"):
        settings.declaration_files()


def test_dictionary_path_that_matches_nothing(tmp_path: Path) -> None:
    file = write(tmp_path, declaration(dictionary={"path": "no-such-folder"}))
    with pytest.raises(DeclarationError, match="key 'dictionary.path' matches no .json file"):
        load_source(file)


def test_table_roles_fall_back_to_source_roles(tmp_path: Path) -> None:
    parsed = read_declaration(write(tmp_path, declaration(
        roles={"person_id": "PID"}, tables={"T": {"roles": {"sex": "S"}}, "U": {"roles": {"person_id": ["A", "B"]}}},
    )))
    assert parsed.roles_for("T").person_id == ["PID"] and parsed.roles_for("T").sex == "S"
    assert parsed.roles_for("U").person_id == ["A", "B"]
    assert parsed.roles_for("other").person_id == ["PID"]
