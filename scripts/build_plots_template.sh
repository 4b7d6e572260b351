#!/usr/bin/env bash
# Build .dvc/plots/offline_template.html: an HTML page template for `dvc plots show`
# with vega, vega-lite and vega-embed inlined, so the rendered plots work without
# internet access (dvc-render's default page loads them from a CDN).
#
# Run from the repository root, after `dvc init`. Idempotent: does nothing if the
# template for the pinned versions is already there and complete. The only network
# access is `npm pack` against the npm registry; the tarballs are checked against the
# pinned sha512 integrity below.
#
# Enable it with (path is relative to .dvc/):
#   dvc config plots.html_template plots/offline_template.html
#
# Versions: newest 5.x / 5.x / 6.x (the last lines that ship UMD browser builds).
# dvc-render's default page uses vega@5.20.2, vega-lite@5.2.0, vega-embed@6.18.2 and
# its templates are vega-lite v5 specs, which these versions render.
set -euo pipefail

VEGA_VERSION=5.33.1
VEGA_LITE_VERSION=5.23.0
VEGA_EMBED_VERSION=6.29.0

# name version build-file sha512-integrity (of the npm tarball)
PACKAGES=(
  "vega ${VEGA_VERSION} build/vega.min.js sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw=="
  "vega-lite ${VEGA_LITE_VERSION} build/vega-lite.min.js sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA=="
  "vega-embed ${VEGA_EMBED_VERSION} build/vega-embed.min.js sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q=="
)

OUT_DIR=.dvc/plots
OUT="${OUT_DIR}/offline_template.html"
MARKER="<!-- offline-vega-template vega@${VEGA_VERSION} vega-lite@${VEGA_LITE_VERSION} vega-embed@${VEGA_EMBED_VERSION} -->"

die() {
  echo "build_plots_template: error: $*" >&2
  exit 1
}

# A complete template: has the version marker, the plots placeholder, no CDN scripts
# placeholder, and the closing tag (it is written atomically, so this is enough).
is_complete() {
  [[ -s "$1" ]] || return 1
  grep -qF -- "$MARKER" "$1" || return 1
  grep -qF -- "{plot_divs}" "$1" || return 1
  ! grep -qF -- "{scripts}" "$1" || return 1
  [[ "$(tail -c 64 "$1")" == *"</html>"* ]] || return 1
}

[[ -d .dvc ]] || die "no .dvc directory in $(pwd): run this from the repository root after 'dvc init'"

if is_complete "$OUT"; then
  echo "build_plots_template: ${OUT} is up to date (vega@${VEGA_VERSION}, vega-lite@${VEGA_LITE_VERSION}, vega-embed@${VEGA_EMBED_VERSION})"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "'npm' not found on PATH; it is needed to fetch vega/vega-lite/vega-embed from the npm registry (install Node.js 20 + npm, e.g. 'apt-get install -y nodejs npm')"
command -v node >/dev/null 2>&1 || die "'node' not found on PATH (needed alongside npm)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/plots-template.XXXXXX")"
TMP_OUT=""
cleanup() {
  rm -rf "$WORK"
  if [[ -n "$TMP_OUT" ]]; then rm -f "$TMP_OUT"; fi
}
trap cleanup EXIT

specs=()
for entry in "${PACKAGES[@]}"; do
  read -r name version _ _ <<<"$entry"
  specs+=("${name}@${version}")
done

echo "build_plots_template: npm pack ${specs[*]}"
if ! (cd "$WORK" && npm pack --silent --prefer-offline "${specs[@]}") >"$WORK/npm.log" 2>&1; then
  cat "$WORK/npm.log" >&2
  die "'npm pack ${specs[*]}' failed (is the npm registry reachable? check 'npm config get registry')"
fi

sha512_of() {
  node -e 'const c=require("crypto"),fs=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

# Extract the minified UMD build of each package, check it is safe to inline.
for entry in "${PACKAGES[@]}"; do
  read -r name version build integrity <<<"$entry"
  tgz="$WORK/${name}-${version}.tgz"
  [[ -f "$tgz" ]] || die "npm pack did not produce ${tgz##*/}"
  actual="$(sha512_of "$tgz")"
  [[ "$actual" == "$integrity" ]] || die "${name}@${version}: tarball integrity ${actual} does not match pinned ${integrity}"
  js="$WORK/${name}.js"
  tar -xzOf "$tgz" "package/${build}" >"$js" 2>"$WORK/tar.log" || {
    cat "$WORK/tar.log" >&2
    die "${name}@${version}: tarball has no package/${build}"
  }
  [[ -s "$js" ]] || die "${name}@${version}: package/${build} is empty"
  # The code goes inside <script>...</script>: it must not close or open markup,
  # and must not contain the template placeholders dvc-render substitutes.
  if grep -qiE '</script|<!--' "$js"; then
    die "${name}@${version}: ${build} contains '</script' or '<!--' and cannot be inlined as is"
  fi
  if grep -qE '\{(plot_divs|scripts|refresh_tag)\}' "$js"; then
    die "${name}@${version}: ${build} contains a dvc-render template placeholder"
  fi
  # Drop the source map reference (the .map file is not shipped with the page).
  sed -i -e '/^\/\/# sourceMappingURL=/d' "$js"
done

mkdir -p "$OUT_DIR"
TMP_OUT="$(mktemp "${OUT_DIR}/.offline_template.html.XXXXXX")"

{
  cat <<EOF
<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    ${MARKER}
    <meta charset="utf-8">
    <title>DVC Plot</title>
EOF
  for entry in "${PACKAGES[@]}"; do
    read -r name version build _ <<<"$entry"
    printf '    <script type="text/javascript">/* %s@%s %s */\n' "$name" "$version" "$build"
    cat "$WORK/${name}.js"
    printf '\n    </script>\n'
  done
  cat <<'EOF'
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
EOF
} >"$TMP_OUT"

is_complete "$TMP_OUT" || die "generated template ${TMP_OUT} failed the completeness check"
chmod 0644 "$TMP_OUT"
mv -f "$TMP_OUT" "$OUT"
TMP_OUT=""
echo "build_plots_template: wrote ${OUT} ($(wc -c <"$OUT") bytes)"
