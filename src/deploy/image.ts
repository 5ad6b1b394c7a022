import type { Manifest } from '../providers/registry/distribution.ts';
import type { ImageReference } from '../providers/registry/reference.ts';

/**
 * Resolving the image to deploy: pinned by digest, with the `deploy_xxxxxxxx`
 * tag added in its registry by PUT of the same manifest bytes.
 */

export interface RegistryApi {
  manifest(ref: ImageReference, push?: boolean): Promise<Manifest>;
  tag(repository: string, tag: string, manifest: Manifest): Promise<void>;
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

export async function resolveImage(
  registry: RegistryApi,
  ref: ImageReference,
  options: { tag: string | undefined; dryRun: boolean; log: (line: string) => void },
): Promise<ResolvedImage> {
  if (ref.digest && options.tag === undefined) {
    // Already pinned and nothing to tag: the registry has nothing to add.
    return { pinned: pinnedName(ref, ref.digest), digest: ref.digest, mediaType: '', tagged: undefined };
  }
  const push = options.tag !== undefined && !options.dryRun;
  const manifest = await registry.manifest(ref, push);
  const pinned = pinnedName(ref, manifest.digest);
  options.log(
    `${ref.registry}/${ref.repository}:${ref.tag ?? ref.digest ?? 'latest'} is ${manifest.digest} (${manifest.mediaType})`,
  );
  if (options.tag === undefined)
    return { pinned, digest: manifest.digest, mediaType: manifest.mediaType, tagged: undefined };
  const tagged = `${ref.registry}/${ref.repository}:${options.tag}`;
  if (options.dryRun) {
    options.log(`would PUT the same manifest as ${tagged}`);
  } else {
    await registry.tag(ref.repository, options.tag, manifest);
    options.log(`tagged ${tagged} -> ${manifest.digest}`);
  }
  return { pinned, digest: manifest.digest, mediaType: manifest.mediaType, tagged };
}
