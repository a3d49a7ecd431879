package dev.siteward.pki.modelsig;

import java.util.Comparator;
import java.util.List;

/**
 * Rules for resource names in a manifest: paths relative to the model root, {@code /}-separated, or {@code .} for a
 * single-file model.
 */
final class ResourceNames {

    /** The name of the one resource of a single-file model. */
    static final String SINGLE_FILE = ".";

    /**
     * Orders names as the reference implementation does (Python {@code PurePosixPath} ordering): component by
     * component, each component compared by Unicode code point, a prefix before a longer path.
     */
    static final Comparator<String> ORDER = ResourceNames::compare;

    private ResourceNames() {
    }

    /**
     * Returns {@code null} when {@code name} is a safe relative path, else the reason it is refused: empty, absolute,
     * with a backslash, NUL, an empty, {@code .} or {@code ..} segment.
     */
    static String problem(String name) {
        if (name.isEmpty()) {
            return "empty path";
        }
        if (name.startsWith("/")) {
            return "absolute path";
        }
        if (name.indexOf('\\') >= 0) {
            return "backslash in path";
        }
        if (name.indexOf('\0') >= 0) {
            return "NUL in path";
        }
        if (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
            return "drive-letter path";
        }
        for (String segment : name.split("/", -1)) {
            if (segment.isEmpty()) {
                return "empty path segment";
            }
            if (segment.equals(".") || segment.equals("..")) {
                return "'" + segment + "' path segment";
            }
        }
        return null;
    }

    /** Returns true when {@code name} equals {@code prefix} or lies below it, segment-wise. */
    static boolean isAtOrBelow(String name, String prefix) {
        return name.equals(prefix) || name.startsWith(prefix + "/");
    }

    private static int compare(String a, String b) {
        List<String> pa = List.of(a.split("/", -1));
        List<String> pb = List.of(b.split("/", -1));
        int n = Math.min(pa.size(), pb.size());
        for (int i = 0; i < n; i++) {
            int c = compareCodePoints(pa.get(i), pb.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(pa.size(), pb.size());
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
