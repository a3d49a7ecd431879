# Shared by the ./siteward and ./siteward-device launchers.

# siteward_build_if_stale ROOT JAR MODULE SOURCE_MODULE...: builds MODULE (and what it needs) with Maven when JAR is
# missing or older than any pom.xml or main source of the SOURCE_MODULEs. Build output goes to stderr.
siteward_build_if_stale() {
    local root="$1" jar="$2" module="$3"
    shift 3
    local stale=0
    if [ ! -f "$jar" ]; then
        stale=1
    else
        local paths=("$root/pom.xml")
        local m
        for m in "$@"; do
            paths+=("$root/$m/pom.xml" "$root/$m/src/main")
        done
        if [ -n "$(find "${paths[@]}" -newer "$jar" -print -quit 2>/dev/null)" ]; then
            stale=1
        fi
    fi
    if [ "$stale" = 1 ]; then
        echo "siteward: building $module (first run or sources changed)..." >&2
        # Maven 3.8 prints bare colour resets even in batch mode: strip them
        if ! (cd "$root" && mvn -q -B -DskipTests -pl "$module" -am package 2>&1 | sed 's/\x1b\[0m//g') 1>&2; then
            echo "siteward: build of $module failed" >&2
            exit 4
        fi
    fi
}

# siteward_newest_java: prints the java binary of the newest JDK (release 17 or later) found in $JAVA_HOME,
# /usr/lib/jvm and on PATH.
siteward_newest_java() {
    local best="" best_major=0 home major candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    for home in /usr/lib/jvm/*; do
        candidates+=("$home")
    done
    for home in "${candidates[@]}"; do
        [ -x "$home/bin/java" ] && [ -f "$home/release" ] || continue
        major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
        if [ -n "$major" ] && [ "$major" -ge 17 ] && [ "$major" -gt "$best_major" ]; then
            best="$home/bin/java"
            best_major=$major
        fi
    done
    if [ -z "$best" ]; then
        best=$(command -v java || true)
    fi
    if [ -z "$best" ]; then
        echo "siteward: no Java 17 or later found (install a JDK or set JAVA_HOME)" >&2
        exit 4
    fi
    echo "$best"
}
