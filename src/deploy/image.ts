import { ApiError, InputError, StepError } from '../core/errors.ts';
import { ComposedError, type Line, msg } from '../core/message.ts';
import type { Manifest, PushAccess } from '../providers/registry/distribution.ts';
import { formatImageReference, type ImageReference } from '../providers/registry/reference.ts';

/**
 * Resolving the image to deploy: pinned by digest, with the `deploy_xxxxxxxx`
 * tag added in its registry by PUT of the same manifest bytes.
 */

export interface RegistryApi {
  /** GET: the bytes, needed to PUT them under another tag. */
  manifest(ref: ImageReference): Promise<Manifest>;
  /** HEAD: only the digest (no pull counted on Docker Hub). */
  resolve(ref: ImageReference): Promise<{ digest: string; mediaType: string }>;
  /** HEAD: whether the manifest exists (false on 404). */
  exists(ref: ImageReference): Promise<boolean>;
  tag(repository: string, tag: string, manifest: Manifest): Promise<void>;
  pushAccess(repository: string, options: { probe: boolean }): Promise<PushAccess>;
}

export interface ResolvedImage {
  /** `registry/repository@sha256:…`, what the target runs. */
  pinned: string;
  digest: string;
  mediaType: string;
  tagged: string | undefined;
}

export function deployTagOf(deployId: string): string {
  return `deploy_${deployId.replace(/-/g, '').slice(0, 8)}`;
}

export function pinnedName(ref: ImageReference, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}

/** The digest part of a pinned reference, if it has one. */
export function digestOf(image: string | undefined): string | undefined {
  return image ? /@(sha256:[a-f0-9]{64})$/.exec(image)?.[1] : undefined;
}

/** An image pinned by digest, with the manifest bytes when a tag is still to be added. */
export interface PinnedImage {
  ref: ImageReference;
  /** `registry/repository@sha256:…`, what the target runs. */
  pinned: string;
  digest: string;
  mediaType: string;
  manifest: Manifest | undefined;
}

/**
 * Pins the image by digest. With `forTag` (and not a dry run) the manifest is
 * read by GET so the same bytes can be PUT under a tag once the tag is known:
 * a re-run learns its deploy tag from the GitHub history only after the image
 * is pinned, because the earlier attempt is matched by the image it deployed.
 * Otherwise a HEAD gives the digest.
 */
export interface PinOptions {
  forTag: boolean;
  dryRun: boolean;
  /** The input that named the image (`image`, `rollback-to`), named when the registry has no such image. */
  input: string;
  log: (line: Line) => void;
  warn: (line: Line) => void;
}

export async function pinImage(
  registry: RegistryApi,
  ref: ImageReference,
  options: PinOptions,
): Promise<PinnedImage> {
  try {
    return await pin(registry, ref, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw notFound(ref, options.input);
    if (error instanceof ApiError)
      throw new StepError(
        'registry.resolve',
        msg`read ${formatImageReference(ref)} from its registry`,
        error,
      );
    throw error;
  }
}

/** distribution answers 404 (MANIFEST_UNKNOWN, NAME_UNKNOWN) for a tag, digest or repository it does not hold. */
function notFound(ref: ImageReference, input: string): InputError {
  const what = ref.digest ? `digest ${ref.digest}` : `tag ${ref.tag ?? 'latest'}`;
  return new InputError(
    input,
    msg`names ${formatImageReference(ref)}, but ${ref.registry} has no ${ref.repository} with ${what} (HTTP 404); nothing was changed. Check the reference, or push the image first`,
  );
}

async function pin(registry: RegistryApi, ref: ImageReference, options: PinOptions): Promise<PinnedImage> {
  if (ref.digest && !options.forTag) {
    // Already pinned and nothing to tag: one HEAD checks it exists before any target is touched.
    // A registry that refuses or cannot be reached only warns: the target pulls by digest with its
    // own access, as it did before this check.
    const exists = await registry.exists(ref).catch((error: unknown) => {
      options.warn(
        msg`could not check that ${formatImageReference(ref)} exists; the target will pull it by digest. ${error}`,
      );
      return true;
    });
    if (!exists) throw notFound(ref, options.input);
    return {
      ref,
      pinned: pinnedName(ref, ref.digest),
      digest: ref.digest,
      mediaType: '',
      manifest: undefined,
    };
  }
  const manifest = options.forTag && !options.dryRun ? await registry.manifest(ref) : undefined;
  const found = manifest ?? (await registry.resolve(ref));
  options.log(
    msg`${formatImageReference(ref)} is ${found.digest}${found.mediaType ? msg` (${found.mediaType})` : ''}`,
  );
  return {
    ref,
    pinned: pinnedName(ref, found.digest),
    digest: found.digest,
    mediaType: found.mediaType,
    manifest,
  };
}

/** PUTs the pinned manifest's bytes under `tag` (the same PUT again is harmless); returns the tagged name. */
export async function tagPinned(
  registry: RegistryApi,
  image: PinnedImage,
  tag: string,
  options: { dryRun: boolean; log: (line: Line) => void },
): Promise<string> {
  const tagged = `${image.ref.registry}/${image.ref.repository}:${tag}`;
  if (options.dryRun) {
    options.log(msg`would PUT the same manifest as ${tagged}`);
  } else {
    if (!image.manifest)
      throw new ComposedError(msg`the manifest of ${image.pinned} was not read for tagging`);
    await registry.tag(image.ref.repository, tag, image.manifest);
    options.log(msg`tagged ${tagged} -> ${image.digest}`);
  }
  return tagged;
}

export async function resolveImage(
  registry: RegistryApi,
  ref: ImageReference,
  options: Omit<PinOptions, 'forTag'> & { tag: string | undefined },
): Promise<ResolvedImage> {
  const pinned = await pinImage(registry, ref, { ...options, forTag: options.tag !== undefined });
  const tagged =
    options.tag === undefined ? undefined : await tagPinned(registry, pinned, options.tag, options);
  return { pinned: pinned.pinned, digest: pinned.digest, mediaType: pinned.mediaType, tagged };
}
