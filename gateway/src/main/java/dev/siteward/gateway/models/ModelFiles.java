package dev.siteward.gateway.models;

import dev.siteward.pki.modelsig.ModelLocation;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The files of a model folder that are sent to the repository, chosen as the signature format counts them
 * (docs/model-signing.md, "Which files count"): every regular file, except the signature file inside the folder and
 * git metadata at the root. A symbolic link or special file refuses the model ({@code modelsig.path_refused}).
 */
public final class ModelFiles {

    private ModelFiles() {
    }

    /** Relative paths ({@code /}-separated) of the files under {@code root}, sorted. */
    public static List<String> list(Path root, Path signatureFile) throws IOException, ModelException {
        Path base = root.toAbsolutePath().normalize();
        Path sig = signatureFile == null ? null : signatureFile.toAbsolutePath().normalize();
        if (Files.isSymbolicLink(base)) {
            throw ModelException.refused("modelsig.path_refused", root + " is a symbolic link");
        }
        List<String> out = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Files.walkFileTree(base, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (!dir.equals(base) && dir.getParent().equals(base)
                        && ModelLocation.GIT_PATHS.contains(dir.getFileName().toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = base.relativize(file).toString().replace('\\', '/');
                if (file.equals(sig) || (file.getParent().equals(base)
                        && ModelLocation.GIT_PATHS.contains(file.getFileName().toString()))) {
                    return FileVisitResult.CONTINUE;
                }
                if (attrs.isSymbolicLink() || !attrs.isRegularFile()) {
                    refused.add(rel);
                } else {
                    out.add(rel);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        if (!refused.isEmpty()) {
            throw ModelException.refused("modelsig.path_refused", "symbolic link or special file in the model: "
                    + refused.get(0));
        }
        out.sort(null);
        return out;
    }

    /** Whether {@code path} is a safe relative model path: no empty, {@code .} or {@code ..} segment. */
    static boolean safeRelative(String path) {
        if (path == null || path.isEmpty() || path.length() > 1024 || path.startsWith("/") || path.contains("\\")
                || path.indexOf('\0') >= 0 || path.matches("^[A-Za-z]:.*")) {
            return false;
        }
        for (String s : path.split("/", -1)) {
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                return false;
            }
        }
        return true;
    }
}
