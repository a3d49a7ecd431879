package dev.siteward.pki.modelsig;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A model on disk (a folder or a single file) and which of its files count, following the reference implementation.
 *
 * <p>Counted: every regular file under the model root, named by its path relative to the root with {@code /}
 * separators (a single-file model has one resource named {@code .}). Left out: the signature file when it lies inside
 * the folder, git metadata at the root ({@code .git/}, {@code .gitattributes}, {@code .github/}, {@code .gitignore}),
 * and the ignore paths (absolute, or relative to the working directory; a directory ignores everything below it;
 * paths outside the model root are dropped). Refused: a symbolic link anywhere in the model (the model path
 * itself included; the directories above it are not checked) and special files (FIFOs, sockets, devices).
 */
public final class ModelLocation {

    /** Git metadata left out at the model root, as the reference implementation does. */
    public static final List<String> GIT_PATHS = List.of(".git", ".gitattributes", ".github", ".gitignore");

    private final Path model;
    private final Path signatureFile;
    private final List<Path> ignorePaths;
    private final Path workingDirectory;

    private ModelLocation(Path model, Path signatureFile, List<Path> ignorePaths, Path workingDirectory) {
        this.model = model;
        this.signatureFile = signatureFile;
        this.ignorePaths = List.copyOf(ignorePaths);
        this.workingDirectory = workingDirectory;
    }

    /** Returns the location of the model at {@code model} (a folder or a single file), with no exclusions. */
    public static ModelLocation of(Path model) {
        return new ModelLocation(Objects.requireNonNull(model, "model"), null, List.of(),
                Path.of("").toAbsolutePath());
    }

    /** Returns a copy that leaves out {@code signatureFile} if it lies inside the model folder. */
    public ModelLocation signatureFile(Path signatureFile) {
        return new ModelLocation(model, Objects.requireNonNull(signatureFile, "signatureFile"), ignorePaths,
                workingDirectory);
    }

    /**
     * Returns a copy that also leaves out {@code paths}: absolute, or relative to {@code workingDirectory}; only the
     * paths inside the model root count.
     */
    public ModelLocation ignorePaths(Collection<Path> paths, Path workingDirectory) {
        List<Path> all = new ArrayList<>(ignorePaths);
        all.addAll(paths);
        return new ModelLocation(model, signatureFile, all, Objects.requireNonNull(workingDirectory, "workingDirectory"));
    }

    /** Returns a copy that also leaves out {@code paths}, relative paths taken from the process working directory. */
    public ModelLocation ignorePaths(Collection<Path> paths) {
        return ignorePaths(paths, workingDirectory);
    }

    /** Returns the model path as given. */
    public Path model() {
        return model;
    }

    /** Returns the signature file, if one was set. */
    public Optional<Path> signatureFile() {
        return Optional.ofNullable(signatureFile);
    }

    /** Returns the model name as the reference implementation records it: the last component of the model path. */
    public String modelName() {
        Path name = model.getFileName();
        String s = name == null ? "" : name.toString();
        if (s.isEmpty() || s.equals(".") || s.equals("..")) {
            Path abs = model.toAbsolutePath().normalize().getFileName();
            s = abs == null ? "" : abs.toString();
        }
        return s;
    }

    /** Returns true when the model path is a regular file (a single-file model). */
    boolean isSingleFile() {
        return Files.isRegularFile(model, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Returns the caller's ignore paths, plus the signature file and git metadata when the model is a folder, as
     * names relative to the model root (sorted, without duplicates). These are what a signature records as
     * {@code ignore_paths}.
     */
    List<String> excludedNames() {
        if (isSingleFile()) {
            return List.of();
        }
        TreeSet<String> names = new TreeSet<>(ResourceNames.ORDER);
        names.addAll(GIT_PATHS);
        if (signatureFile != null) {
            relativeToRoot(signatureFile).ifPresent(names::add);
        }
        for (Path p : ignorePaths) {
            Path resolved = p.isAbsolute() ? p : workingDirectory.resolve(p);
            relativeToRoot(resolved).ifPresent(names::add);
        }
        return List.copyOf(names);
    }

    /** Returns the caller's ignore paths that fall inside the model root, relative to it. */
    List<String> callerIgnoredNames() {
        TreeSet<String> names = new TreeSet<>(ResourceNames.ORDER);
        for (Path p : ignorePaths) {
            Path resolved = p.isAbsolute() ? p : workingDirectory.resolve(p);
            relativeToRoot(resolved).ifPresent(names::add);
        }
        return List.copyOf(names);
    }

    /** Returns true when the caller gave ignore paths that fall inside the model root. */
    boolean hasCallerIgnorePaths() {
        return !callerIgnoredNames().isEmpty();
    }

    private Optional<String> relativeToRoot(Path p) {
        Path root = model.toAbsolutePath().normalize();
        Path abs = p.toAbsolutePath().normalize();
        if (!abs.startsWith(root) || abs.equals(root)) {
            return Optional.empty();
        }
        List<String> parts = new ArrayList<>();
        for (Path part : root.relativize(abs)) {
            parts.add(part.toString());
        }
        return Optional.of(String.join("/", parts));
    }

    /**
     * Lists the model's files that count, by resource name in manifest order, leaving out {@code extraExcluded} (names
     * relative to the root) as well as this location's exclusions.
     *
     * @throws ModelSignatureException ({@link FailureReason#PATH_REFUSED}) on a symbolic link, a special file or a
     *     name that cannot be written safely in a manifest
     * @throws IOException when the model cannot be read (missing, unreadable directory)
     */
    TreeMap<String, Path> files(Collection<String> extraExcluded) throws IOException, ModelSignatureException {
        if (Files.isSymbolicLink(model)) {
            throw new ModelSignatureException(FailureReason.PATH_REFUSED, "the model path is a symbolic link: " + model);
        }
        BasicFileAttributes rootAttrs;
        try {
            rootAttrs = Files.readAttributes(model, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(model.toString(), null, "model path does not exist");
        }
        TreeMap<String, Path> files = new TreeMap<>(ResourceNames.ORDER);
        if (rootAttrs.isRegularFile()) {
            files.put(ResourceNames.SINGLE_FILE, model);
            return files;
        }
        if (!rootAttrs.isDirectory()) {
            throw new ModelSignatureException(FailureReason.PATH_REFUSED, "the model is not a file or folder: " + model);
        }
        List<String> excluded = new ArrayList<>(excludedNames());
        excluded.addAll(extraExcluded);
        Path root = model;
        List<ModelSignatureException> refused = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (dir.equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                String name = nameOf(root, dir);
                return isExcluded(name, excluded) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String name = nameOf(root, file);
                if (isExcluded(name, excluded)) {
                    return FileVisitResult.CONTINUE;
                }
                if (attrs.isSymbolicLink()) {
                    refused.add(new ModelSignatureException(FailureReason.PATH_REFUSED,
                            "symbolic link in the model: " + name));
                    return FileVisitResult.TERMINATE;
                }
                if (!attrs.isRegularFile()) {
                    refused.add(new ModelSignatureException(FailureReason.PATH_REFUSED,
                            "not a regular file: " + name));
                    return FileVisitResult.TERMINATE;
                }
                String problem = ResourceNames.problem(name);
                if (problem != null) {
                    refused.add(new ModelSignatureException(FailureReason.PATH_REFUSED,
                            "file name cannot be signed (" + problem + "): " + name));
                    return FileVisitResult.TERMINATE;
                }
                files.put(name, file);
                return FileVisitResult.CONTINUE;
            }
        });
        if (!refused.isEmpty()) {
            throw refused.get(0);
        }
        return files;
    }

    private static boolean isExcluded(String name, List<String> excluded) {
        for (String e : excluded) {
            if (ResourceNames.isAtOrBelow(name, e)) {
                return true;
            }
        }
        return false;
    }

    private static String nameOf(Path root, Path p) {
        List<String> parts = new ArrayList<>();
        for (Path part : root.relativize(p)) {
            parts.add(part.toString());
        }
        return String.join("/", parts);
    }

    @Override
    public String toString() {
        return "ModelLocation[" + model + "]";
    }
}
