/** One scan as the share arithmetic sees it. */
export interface ShareClaim {
  /** Its share group (a tenant); scans of one group split the group's share. */
  group: unknown
  /** Most threads it can use (its max_workers). */
  want: number
  /** It runs already: it keeps at least one thread. */
  running: boolean
}

/**
 * How many of `size` threads each scan should hold: every running scan one, then, while threads
 * allow, every waiting scan one (the groups holding fewest first), then the rest one at a time to
 * the group holding fewest among those with a scan that wants more, inside it to its scan holding
 * fewest (ties: the earlier in `claims`). So groups differ by at most one thread unless a group's
 * scans want no more or hold only the one thread each must keep, and a group's threads differ by
 * at most one between its scans on the same terms.
 */
export function shareThreads (size: number, claims: readonly ShareClaim[]): number[] {
  const shares = claims.map(() => 0)
  const groups = new Map<unknown, number[]>()
  claims.forEach((claim, i) => {
    const members = groups.get(claim.group)
    if (members === undefined) groups.set(claim.group, [i])
    else members.push(i)
  })
  const held = new Map<unknown, number>()
  for (const group of groups.keys()) held.set(group, 0)
  let left = size
  const give = (i: number): void => {
    shares[i]++
    held.set(claims[i].group, held.get(claims[i].group)! + 1)
    left--
  }
  claims.forEach((claim, i) => { if (claim.running && claim.want > 0 && left > 0) give(i) })
  const next = (open: (i: number) => boolean): number | undefined => {
    let best: number | undefined
    let bestHeld = Infinity
    for (const [group, members] of groups) {
      const count = held.get(group)!
      if (count >= bestHeld) continue
      let pick: number | undefined
      for (const i of members) if (open(i) && (pick === undefined || shares[i] < shares[pick])) pick = i
      if (pick === undefined) continue
      best = pick
      bestHeld = count
    }
    return best
  }
  for (let i = next((i) => shares[i] === 0 && claims[i].want > 0); left > 0 && i !== undefined; i = next((i) => shares[i] === 0 && claims[i].want > 0)) give(i)
  for (let i = next((i) => shares[i] < claims[i].want); left > 0 && i !== undefined; i = next((i) => shares[i] < claims[i].want)) give(i)
  return shares
}
