"""[tool.convshape] parsing: the schema, and a clear message for every bad setting."""

from __future__ import annotations

import sys
import textwrap

import pytest

from pytest_convshape.config import ConfigError, ModelSpec, Settings, find, glob_problem, load, parse
from pytest_convshape.inputspec import InputSpec


def write(tmp_path, body: str):
    (tmp_path / "models.py").write_text("class AE:\n    pass\n")
    path = tmp_path / "pyproject.toml"
    path.write_text(textwrap.dedent(body))
    return path


def test_full_schema(tmp_path):
    path = write(
        tmp_path,
        """
        [tool.convshape]
        select = ["CS1", "CS2"]
        ignore = ["CS901"]
        per-module-ignores = { "decoder.*" = ["CS301"] }

        [[tool.convshape.models]]
        target = "mypkg.models:UNet"
        kwargs = { channels = 3 }
        input = [[1, 3, 256, 256], [1, 3, 257, 257]]
        pairs = [["enc.0", "dec.3"]]
        ignore = ["CS303"]

        [[tool.convshape.models]]
        target = "models.py:AE"
        id = "ae"
        input = [1, 1, 28, 28]
        per-module-ignores = { "head.?" = ["CS9"] }
        """,
    )
    s = load(path, display="pyproject.toml")
    assert s.present and s.path == path and s.collect
    assert s.select == ("CS1", "CS2") and s.ignore == ("CS901",)
    assert s.per_module_ignores == (("decoder.*", ("CS301",)),)
    unet, ae = s.models
    assert [[spec.shape for spec in one] for one in unet.inputs] == [[(1, 3, 256, 256)], [(1, 3, 257, 257)]]
    assert unet.kwargs == {"channels": 3} and unet.pairs == (("enc.0", "dec.3"),)
    assert s.policy(unet).ignore == ("CS901", "CS303")
    assert unet.item_name(unet.inputs[0]) == "convshape[mypkg.models:UNet-1x3x256x256]"
    assert ae.item_name(ae.inputs[0]) == "convshape[ae-1x1x28x28]"
    assert s.policy(ae).per_module_ignores == (("decoder.*", ("CS301",)), ("head.?", ("CS9",)))
    assert ae.load_target(tmp_path) == f"{(tmp_path / 'models.py').resolve()}:AE"
    assert unet.load_target(tmp_path) == "mypkg.models:UNet"
    assert s.describe() == (
        "2 models, 3 inputs; select CS1, CS2; ignore CS901; per-module-ignores decoder.* -> CS301"
    )


def test_no_table_means_no_settings(tmp_path):
    path = write(tmp_path, '[project]\nname = "x"\n')
    assert load(path) == Settings()
    path = write(tmp_path, '[tool.other]\nconvshape = 1\n')
    assert not load(path).present


def test_empty_table_is_present_with_defaults(tmp_path):
    s = load(write(tmp_path, "[tool.convshape]\n"))
    assert s.present and s.models == () and s.describe() == "0 models, 0 inputs; select all"


def test_collect_false(tmp_path):
    assert load(write(tmp_path, "[tool.convshape]\ncollect = false\n")).collect is False


M = '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [1, 1, 28, 28]\n'

BAD = {
    "unknown top key with hint": (
        '[tool.convshape]\nselct = ["CS1"]\n',
        "pyproject.toml: tool.convshape.selct: unknown key; did you mean 'select'? (allowed: select, extend-select, ignore, per-module-ignores, fail-on, collect, src, models)",
    ),
    "snake case key": (
        '[tool.convshape]\nper_module_ignores = {}\n',
        "pyproject.toml: tool.convshape.per_module_ignores: unknown key; did you mean 'per-module-ignores'?",
    ),
    "unknown model key": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninputs = [1, 1, 28, 28]\n',
        "pyproject.toml: tool.convshape.models[0].inputs = [1, 1, 28, 28]: inputs takes named inputs such as { x = [1, 1, 28, 28] }; for positional tensors write input = [...]",
    ),
    "select not a list": (
        '[tool.convshape]\nselect = "CS1"\n',
        'pyproject.toml: tool.convshape.select = "CS1": expected an array of rule codes, prefixes or names such as ["CS101", "CS3", "shape-not-restored"], got a string',
    ),
    "unknown code in ignore": (
        '[tool.convshape]\nignore = ["CS7"]\n',
        "pyproject.toml: tool.convshape.ignore = [\"CS7\"]: unknown rule 'CS7' (give codes (CS101), prefixes (CS1) or rule names",
    ),
    "lower-case code in select": (
        '[tool.convshape]\nselect = ["cs101"]\n',
        "unknown rule 'cs101'; did you mean 'CS101'?",
    ),
    "collect not bool": (
        '[tool.convshape]\ncollect = "no"\n',
        'pyproject.toml: tool.convshape.collect = "no": expected true or false, got a string',
    ),
    "models a table": (
        '[tool.convshape.models]\ntarget = "models.py:AE"\n',
        "pyproject.toml: tool.convshape.models = { target = \"models.py:AE\" }: expected an array of tables",
    ),
    "missing input": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\n',
        "pyproject.toml: tool.convshape.models[0]: required key 'input' is missing",
    ),
    "target without NAME": (
        '[[tool.convshape.models]]\ntarget = "mypkg.models"\ninput = [1, 1, 28, 28]\n',
        'pyproject.toml: tool.convshape.models[0].target = "mypkg.models": expected "package.module:NAME" or "path/to/file.py:NAME"',
    ),
    "target with a bad module path": (
        '[[tool.convshape.models]]\ntarget = "my-pkg.models:Net"\ninput = [1, 1, 28, 28]\n',
        'tool.convshape.models[0].target = "my-pkg.models:Net": expected "package.module:NAME"',
    ),
    "target not a string": (
        '[[tool.convshape.models]]\ntarget = 3\ninput = [1, 1, 28, 28]\n',
        "tool.convshape.models[0].target = 3: expected \"package.module:NAME\" or \"path/to/file.py:NAME\" (a class, factory or module instance), got an integer",
    ),
    "missing file": (
        '[[tool.convshape.models]]\ntarget = "src/nets.py:AE"\ninput = [1, 1, 28, 28]\n',
        'pyproject.toml: tool.convshape.models[0].target = "src/nets.py:AE": file src/nets.py not found (paths are relative to the folder of pyproject.toml)',
    ),
    "negative size": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [1, 1, -28, 28]\n',
        "pyproject.toml: tool.convshape.models[0].input = [1, 1, -28, 28]: -28 in [1, 1, -28, 28] is not a positive int; expected a shape of positive ints such as [1, 3, 256, 256], or a list of such shapes",
    ),
    "zero size in second shape": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [[1, 1, 28, 28], [1, 1, 0, 28]]\n',
        "0 in [1, 1, 0, 28] is not a positive int",
    ),
    "float size": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [1, 1, 28.0, 28]\n',
        "28.0 in [1, 1, 28.0, 28] is not a positive int",
    ),
    "shape as string": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = "1x1x28x28"\n',
        'tool.convshape.models[0].input = "1x1x28x28": expected a shape of positive ints such as [1, 3, 256, 256], or a list of such shapes, got a string',
    ),
    "mixed shape list": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [1, [1, 1, 28, 28]]\n',
        "got an empty or mixed array",
    ),
    "duplicate input": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [[1, 1, 28, 28], [1, 1, 28, 28]]\n',
        "tool.convshape.models[0].input = [[1, 1, 28, 28], [1, 1, 28, 28]]: shape 1x1x28x28 is listed twice",
    ),
    "bad pair": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [1, 1, 28, 28]\npairs = [["enc.0"]]\n',
        'tool.convshape.models[0].pairs = [["enc.0"]]: ["enc.0"] is not a pair; expected [down, up] layer names',
    ),
    "kwargs not a table": (
        '[[tool.convshape.models]]\ntarget = "models.py:AE"\ninput = [1, 1, 28, 28]\nkwargs = [3]\n',
        "tool.convshape.models[0].kwargs = [3]: expected a table of keyword arguments such as { channels = 3 }, got an array",
    ),
    "bad glob characters": (
        '[tool.convshape]\nper-module-ignores = { "decoder/0" = ["CS301"] }\n',
        "pyproject.toml: tool.convshape.per-module-ignores = { \"decoder/0\" = [\"CS301\"] }: bad glob 'decoder/0': contains '/'; globs match qualified layer names",
    ),
    "unclosed bracket glob": (
        '[tool.convshape]\nper-module-ignores = { "decoder.[01" = ["CS301"] }\n',
        "bad glob 'decoder.[01': '[' without a closing ']'",
    ),
    "unknown code in per-module-ignores": (
        '[tool.convshape]\nper-module-ignores = { "decoder.*" = ["CS3O1"] }\n',
        "tool.convshape.per-module-ignores.\"decoder.*\" = [\"CS3O1\"]: unknown rule 'CS3O1'; did you mean 'CS301'?",
    ),
    "per-module-ignores not a table": (
        '[tool.convshape]\nper-module-ignores = ["decoder.*"]\n',
        "expected a table of glob = [codes]",
    ),
    "duplicate model": (
        M + M.replace("[1, 1, 28, 28]", "[1, 1, 32, 32]"),
        'pyproject.toml: tool.convshape.models[1]: duplicate model: target "models.py:AE" is already listed as tool.convshape.models[0]; list all shapes in one entry (input = [[...], [...]]) or give each entry a distinct id',
    ),
    "duplicate id": (
        M + 'id = "a"\n' + M + 'id = "a"\n',
        'duplicate model: id "a" is already listed as tool.convshape.models[0]',
    ),
    "id with a colon": (
        M + 'id = "a::b"\n',
        'pyproject.toml: tool.convshape.models[0].id = "a::b": expected a name of letters, digits, "_", "-" and ".", such as "unet-small"',
    ),
    "table not a table": (
        "[tool]\nconvshape = 1\n",
        "pyproject.toml: tool.convshape = 1: expected a table, got an integer",
    ),
    "sizes dim not spatial": (
        M + 'sizes = { 1 = "8:64" }\n',
        "pyproject.toml: tool.convshape.models[0].sizes.1 = \"8:64\": 1 is not a spatial dim of the inputs; allowed: 2, 3",
    ),
    "sizes bad range": (
        M + 'sizes = { 2 = "64:8" }\n',
        'pyproject.toml: tool.convshape.models[0].sizes.2 = "64:8": the range is empty (the first size is above the last)',
    ),
    "sizes not a table": (
        M + 'sizes = "8:64"\n',
        'pyproject.toml: tool.convshape.models[0].sizes = "8:64": expected a table of dim = "FIRST:LAST[:STEP]"',
    ),
    "invalid toml": (
        "[tool.convshape]\nselect = [\n",
        "pyproject.toml: not valid TOML:",
    ),
}


@pytest.mark.parametrize("body, message", list(BAD.values()), ids=list(BAD))
def test_bad_setting_names_file_key_value_and_allowed(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load(path, display="pyproject.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("pyproject.toml: ")
    assert "\n" not in str(info.value)


def test_two_entries_of_one_target_with_distinct_ids_are_fine(tmp_path):
    s = load(write(tmp_path, M + 'id = "small"\n' + M + 'id = "big"\nkwargs = { width = 64 }\n'))
    assert [m.label for m in s.models] == ["small", "big"]


def test_parse_is_pure_and_names_the_display_path(tmp_path):
    with pytest.raises(ConfigError, match=r"^proj/pyproject.toml: tool.convshape.ignore"):
        parse({"ignore": [1]}, tmp_path / "pyproject.toml", display="proj/pyproject.toml")


@pytest.mark.parametrize("glob", ["decoder.*", "enc.[0-3]", "*.up", "F.interpolate#2", "block-1.?"])
def test_good_globs(glob):
    assert glob_problem(glob) == ""


def test_settings_module_imports_no_torch():
    import subprocess

    code = "import sys, pytest_convshape.config, pytest_convshape.suppress; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_model_spec_label_defaults_to_target():
    spec = ModelSpec(index=0, target="a.b:C", inputs=((InputSpec(None, (1, 2)),),))
    assert spec.label == "a.b:C" and spec.key == "tool.convshape.models[0]"


def test_sizes_are_parsed_for_check(tmp_path):
    s = load(write(tmp_path, M + 'sizes = { 2 = "8:64", 3 = [8, 64, 8] }\n'))
    assert s.models[0].sizes_arg == {2: (8, 64, 1), 3: (8, 64, 8)}


def test_rule_names_and_new_keys(tmp_path):
    s = load(write(tmp_path, '[tool.convshape]\nselect = ["shape-not-restored", "CS3"]\nextend-select = ["CS905"]\n'
                             'ignore = ["unused-suppression"]\nfail-on = "warning"\nsrc = ["lib"]\n'))
    assert s.select == ("CS101", "CS3") and s.extend_select == ("CS905",) and s.ignore == ("CS910",)
    assert s.fail_on == "warning" and s.src == ("lib",)
    assert s.describe() == "0 models, 0 inputs; select CS101, CS3; extend-select CS905; ignore CS910; fail-on warning"


@pytest.mark.parametrize(
    "body, message",
    [
        ('[tool.convshape]\nfail-on = "info"\n', 'tool.convshape.fail-on = "info": expected "error" or "warning"'),
        ('[tool.convshape]\nignore = ["shape-not-restord"]\n', "unknown rule 'shape-not-restord'; did you mean 'shape-not-restored'?"),
        ('[tool.convshape]\nsrc = "src"\n', 'tool.convshape.src = "src": expected an array of folders'),
        (M + 'inputs = { x = [1, 1, 28, 28] }\n', "give input (one positional tensor) or inputs (named inputs), not both"),
        (M.replace("input = [1, 1, 28, 28]", 'inputs = { x = [1, 1, 28, 28], t = { shape = [1], dtype = "int65" } }'),
         "tool.convshape.models[0].inputs.t.dtype: unknown dtype 'int65'; did you mean 'int64'?"),
        (M.replace("input = [1, 1, 28, 28]", 'inputs = { x = [1, 1, 28, 28], t = { shap = [1] } }'),
         "tool.convshape.models[0].inputs.t = { shap = [1] }: unknown key 'shap'"),
        (M.replace("input = [1, 1, 28, 28]", 'inputs = { x = [1, 1, 28, 28] }') + 'sizes = { "y.2" = "8:64" }\n',
         "tool.convshape.models[0].sizes.\"y.2\" = \"8:64\": 'y' is not a tensor input of every input set"),
    ],
)
def test_bad_new_settings(tmp_path, body, message):
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, body), display="pyproject.toml")
    assert message in str(info.value)


def test_named_inputs(tmp_path):
    body = M.replace(
        "input = [1, 1, 28, 28]",
        'inputs = [{ sample = [1, 3, 64, 64], timestep = { shape = [1], dtype = "int64" }, scale = 2.0 }, '
        '{ sample = [1, 3, 32, 32], timestep = { shape = [], dtype = "int64" }, scale = 1.0 }]',
    ) + 'sizes = { "sample.2" = "8:64" }\n'
    spec = load(write(tmp_path, body)).models[0]
    assert [spec.item_name(one) for one in spec.inputs] == [
        "convshape[models.py:AE-sample=1x3x64x64,timestep=1:int64,scale=2.0]",
        "convshape[models.py:AE-sample=1x3x32x32,timestep=scalar:int64,scale=1.0]",
    ]
    assert spec.sizes_arg == {"sample.2": (8, 64, 1)}


def test_find_walks_up_to_the_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.convshape]\n")
    inner = tmp_path / "pkg" / "sub"
    inner.mkdir(parents=True)
    (tmp_path / "pkg" / "pyproject.toml").write_text('[project]\nname = "inner"\n')  # no table: skipped
    assert find(inner) == tmp_path / "pyproject.toml"
    assert find(tmp_path.parent) is None or find(tmp_path.parent) != tmp_path / "pyproject.toml"
