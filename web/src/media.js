// The media rules of each platform as the server checks a post's attachments (chorus.posts.validation
// _check_media and _check_shape, exported to media_rules.json by web/tools/export_rules.py): the
// composer checks the files it attaches before sending. web/test/media_cases.json is checked by both
// test suites so the two agree, rule names, fields and messages.
import MEDIA from './media_rules.json' with { type: 'json' }

export { MEDIA }

// The kind of a MIME type (image, gif, video), or undefined for a type Chorus does not take.
export const kindOf = (mime) => MEDIA.kinds[(mime || '').toLowerCase()]
export const ACCEPTED = Object.keys(MEDIA.kinds)

// Python's round(x, 3) for the aspect ratios compared here
const round3 = (n) => Math.round(n * 1000) / 1000
const fixed = (n, digits) => n.toFixed(digits)

function shape(rules, item, where) {
  const found = []
  const video = kindOf(item.mime_type) === 'video'
  if (video && rules.video_seconds && item.duration_s != null) {
    const [shortest, longest] = rules.video_seconds
    if (!(shortest <= item.duration_s && item.duration_s <= longest))
      found.push({ rule: 'media.duration', field: where,
        message: `${rules.name} takes videos of ${shortest} to ${longest} seconds; this is ${fixed(item.duration_s, 1)}` })
  }
  const bounds = video ? rules.video_aspect : rules.image_aspect
  const aspect = item.width && item.height ? item.width / item.height : null
  if (bounds && aspect !== null && !(bounds[0] <= round3(aspect) && round3(aspect) <= bounds[1]))
    found.push({ rule: 'media.aspect_ratio', field: where,
      message: `${rules.name} takes aspect ratios (width/height) of ${fixed(bounds[0], 2)} to ${fixed(bounds[1], 2)}; this is ${fixed(aspect, 2)}` })
  return found
}

// Every rule `platform` breaks for a post with these attachments ({mime_type, size, width, height,
// duration_s}; unknown facts are not checked), each {rule, field, message} as the server names it.
export function checkMedia(platform, media) {
  const rules = MEDIA.platforms[platform]
  if (!rules) return []
  const found = []
  const kinds = []
  media.forEach((item, index) => {
    const where = `media[${index}]`
    const mime = (item.mime_type || '').toLowerCase()
    const kind = kindOf(mime)
    if (!kind || !rules.types.includes(mime)) {
      found.push({ rule: 'media.unsupported_type', field: where, message: `${rules.name} does not take ${mime} (takes ${rules.types.join(', ')})` })
      return
    }
    kinds.push(kind)
    found.push(...shape(rules, item, where))
    const limit = rules.max_size[mime]
    if (limit != null && item.size != null && item.size > limit)
      found.push({ rule: 'media.too_large', field: where, message: `${rules.name} allows ${mime} up to ${limit} bytes; this is ${item.size}` })
  })
  const count = media.length
  const videos = kinds.filter((k) => k === 'video').length
  const gifs = kinds.filter((k) => k === 'gif').length
  const images = kinds.filter((k) => k === 'image').length + (rules.gif_alone ? 0 : gifs)
  const add = (rule, message) => found.push({ rule, field: 'media', message })
  if (rules.requires === 'any' && count === 0) add('media.required', `${rules.name} needs an image or a video`)
  if (rules.requires === 'video' && videos === 0) add('media.video_required', `${rules.name} needs a video`)
  if (count > rules.max_items) add('media.too_many', `${rules.name} allows ${rules.max_items} attachments; this has ${count}`)
  else if (count > 1 && count < rules.min_items_if_many)
    add('media.too_few', `${rules.name} needs 1 item or ${rules.min_items_if_many}..${rules.max_items} in a carousel`)
  if (images > rules.max_images && count <= rules.max_items) add('media.too_many_images', `${rules.name} allows ${rules.max_images} images`)
  if (videos > rules.max_videos) add('media.too_many_videos', `${rules.name} allows ${rules.max_videos} video`)
  if ((rules.video_alone && videos && count > 1) || (rules.gif_alone && gifs && count > 1))
    add('media.mixed', `${rules.name} takes up to ${rules.max_images} images, or one video or GIF on its own`)
  return found
}

// "1.2 MB", "640 KB": a file's size for people
export function size(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
  return `${Math.max(1, Math.round(bytes / 1024))} KB`
}

// "0:07", "2:20": a video's length for people
export function duration(seconds) {
  const whole = Math.round(seconds)
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
}
