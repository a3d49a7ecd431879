package dev.siteward.device.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The models part of the device directory ({@code <dir>/models}, 0700):
 *
 * <pre>
 * trust.jws                     the pinned trust document (as received)
 * metadata.jws                  the last accepted release metadata
 * state.json                    {@link InstalledModels}: slots, active slot, last results, withdrawals
 * .downloads/&lt;sha256&gt;.part      partial downloads (kept across runs for resume)
 * &lt;team&gt;/&lt;name&gt;/a/, b/           the A/B slots: exactly the model's files
 * &lt;team&gt;/&lt;name&gt;/a.sig, b.sig      each slot's signature bundle
 * </pre>
 *
 * Every file is replaced atomically (write temp, fsync, rename, fsync the directory); a slot is filled in a staging
 * folder and renamed into place, and {@code state.json} is the commit point that names the active slot.
 */
public final class ModelStore {

    static final int FORMAT = 1;

    private final Path root;

    public ModelStore(Path deviceDir) {
        this.root = deviceDir.toAbsolutePath().normalize().resolve("models");
    }

    public Path root() {
        return root;
    }

    Path stateFile() {
        return root.resolve("state.json");
    }

    Path downloads() {
        return root.resolve(".downloads");
    }

    /** The folder of a model's slots: {@code models/<team>/<name>}; the name is checked by the caller. */
    public Path modelDir(String name) {
        return root.resolve(name);
    }

    public Path slotDir(String name, String slot) {
        return modelDir(name).resolve(slot);
    }

    public Path signatureFile(String name, String slot) {
        return modelDir(name).resolve(slot + ".sig");
    }

    void ensure() throws DeviceException {
        try {
            SecureFiles.createPrivateDirectory(root);
            SecureFiles.createPrivateDirectory(downloads());
        } catch (IOException e) {
            throw storage("cannot create " + root, e);
        }
    }

    String readText(String file) throws DeviceException {
        try {
            return Files.readString(root.resolve(file), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw storage("cannot read " + root.resolve(file), e);
        }
    }

    void writeText(String file, String content) throws DeviceException {
        ensure();
        try {
            SecureFiles.writeAtomically(root.resolve(file), content.getBytes(StandardCharsets.US_ASCII), true);
        } catch (IOException e) {
            throw storage("cannot write " + root.resolve(file), e);
        }
    }

    /** Reads {@code state.json}; an absent file is the empty state. */
    public InstalledModels load() throws DeviceException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(stateFile());
        } catch (NoSuchFileException e) {
            return InstalledModels.EMPTY;
        } catch (IOException e) {
            throw storage("cannot read " + stateFile(), e);
        }
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n.path("format").asInt() != FORMAT) {
                throw new IllegalArgumentException("unknown format " + n.path("format"));
            }
            Map<String, InstalledModels.ModelSlots> models = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.path("models").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode m = e.getValue();
                Map<String, InstalledModels.Slot> slots = new HashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> s = m.path("slots").fields(); s.hasNext(); ) {
                    Map.Entry<String, JsonNode> se = s.next();
                    JsonNode v = se.getValue();
                    slots.put(se.getKey(), new InstalledModels.Slot(v.path("version").asLong(),
                            v.path("signature").asText(), Instant.parse(v.path("installedAt").asText()),
                            v.path("singleFile").asBoolean(), v.path("healthFailed").asBoolean()));
                }
                InstalledModels.LastResult last = null;
                JsonNode l = m.get("last");
                if (l != null && !l.isNull()) {
                    last = new InstalledModels.LastResult(l.path("result").asText(),
                            l.path("version").isNumber() ? l.path("version").asLong() : null,
                            l.path("code").isTextual() ? l.path("code").asText() : null,
                            l.path("message").asText(), Instant.parse(l.path("at").asText()));
                }
                String active = m.path("active").isTextual() ? m.path("active").asText() : null;
                models.put(e.getKey(), new InstalledModels.ModelSlots(active, slots, last));
            }
            Map<String, WithdrawnVersions> withdrawn = new HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.path("withdrawn").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                List<Long> versions = new ArrayList<>();
                e.getValue().path("versions").forEach(v -> versions.add(v.asLong()));
                withdrawn.put(e.getKey(), new WithdrawnVersions(e.getValue().path("below").asLong(), versions));
            }
            return new InstalledModels(models, withdrawn);
        } catch (IOException | RuntimeException e) {
            throw storage(stateFile() + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Replaces {@code state.json} atomically. */
    public void commit(InstalledModels state) throws DeviceException {
        ensure();
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("format", FORMAT);
        ObjectNode models = n.putObject("models");
        state.models().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            ObjectNode m = models.putObject(e.getKey());
            m.put("active", e.getValue().active());
            ObjectNode slots = m.putObject("slots");
            e.getValue().slots().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(s -> {
                ObjectNode v = slots.putObject(s.getKey());
                v.put("version", s.getValue().version());
                v.put("signature", s.getValue().signatureSha256());
                v.put("installedAt", s.getValue().installedAt().toString());
                v.put("singleFile", s.getValue().singleFile());
                v.put("healthFailed", s.getValue().healthFailed());
            });
            InstalledModels.LastResult l = e.getValue().last();
            if (l != null) {
                ObjectNode ln = m.putObject("last");
                ln.put("result", l.result());
                if (l.version() != null) {
                    ln.put("version", l.version());
                }
                ln.put("code", l.code());
                ln.put("message", l.message());
                ln.put("at", l.at().toString());
            }
        });
        ObjectNode withdrawn = n.putObject("withdrawn");
        state.withdrawn().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            ObjectNode w = withdrawn.putObject(e.getKey());
            w.put("below", e.getValue().below());
            ArrayNode a = w.putArray("versions");
            e.getValue().versions().forEach(a::add);
        });
        try {
            SecureFiles.writeAtomically(stateFile(), Json.MAPPER.writeValueAsBytes(n), true);
        } catch (IOException e) {
            throw storage("cannot write " + stateFile(), e);
        }
    }

    /** Takes the models lock (one fetch at a time per device directory); released with the process at the latest. */
    AutoCloseable lock() throws DeviceException {
        ensure();
        try {
            java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(root.resolve(".lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            java.nio.channels.FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
                throw new DeviceException(Reason.STORAGE, "another process is installing models in " + root
                        + "; try again when it is done");
            }
            java.nio.channels.FileLock held = lock;
            return () -> {
                held.release();
                ch.close();
            };
        } catch (IOException e) {
            throw storage("cannot lock " + root, e);
        }
    }

    /** Deletes a file tree without following symbolic links (a link is removed, never its target). */
    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static DeviceException storage(String message, Exception cause) {
        return new DeviceException(Reason.STORAGE, message + (cause == null || cause.getMessage() == null ? ""
                : ": " + cause.getMessage()), cause);
    }
}
