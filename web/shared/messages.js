// Text every page shares. Uyghur and Tibetan are machine-assisted drafts, marked for review by
// a native speaker before a county relies on them.
export const common = {
  'zh-Hans': {
    app: '远教', language: '语言', sign_out: '退出', offline: '无法连接服务器',
    station: '站点播放', member: '我的学习', editor: '课程编辑', dashboard: '学时统计',
    home_intro: '党员远程教育：在站点集中学习，或在自己的设备上学习，学时记入台账。',
    token: '令牌', save: '保存', loading: '加载中…', error: '出错了',
  },
  'ug-Arab': {
    app: 'يىراق مائارىپ', language: 'تىل', sign_out: 'چىكىنىش', offline: 'مۇلازىمېتىرغا ئۇلىنالمىدى',
    station: 'پونكىت قويۇش', member: 'مېنىڭ ئۆگىنىشىم', editor: 'دەرس تەھرىرلەش', dashboard: 'ئۆگىنىش سائىتى ستاتىستىكىسى',
    home_intro: 'پارتىيە ئەزالىرىنىڭ يىراقتىن مائارىپى: پونكىتتا كوللېكتىپ ياكى ئۆز ئۈسكۈنىسىدە ئۆگىنىش، سائەتلەر دەپتەرگە خاتىرىلىنىدۇ.',
    token: 'بەلگە', save: 'ساقلاش', loading: 'يۈكلىنىۋاتىدۇ…', error: 'خاتالىق كۆرۈلدى',
  },
  'bo-Tibt': {
    app: 'རྒྱང་སློབ།', language: 'སྐད་ཡིག', sign_out: 'ཕྱིར་འཐེན།', offline: 'ཞབས་ཞུ་འཕྲུལ་ཆས་དང་འབྲེལ་མ་ཐུབ།',
    station: 'ས་ཚིགས་གཏོང་བ།', member: 'ངའི་སློབ་སྦྱོང་།', editor: 'སློབ་ཚན་རྩོམ་སྒྲིག', dashboard: 'སློབ་ཚོད་བསྡོམས་རྩིས།',
    home_intro: 'ཏང་མིའི་རྒྱང་རིང་སློབ་གསོ། ས་ཚིགས་སུ་མཉམ་སྦྲེལ་སློབ་སྦྱོང་ངམ་རང་གི་སྒྲིག་ཆས་ཐོག་སློབ་སྦྱོང་བྱས་ཏེ་སློབ་ཚོད་ཐོ་དེབ་ཏུ་འགོད།',
    token: 'རྟགས་ཡིག', save: 'ཉར་ཚགས།', loading: 'འཇུག་བཞིན་པ།', error: 'ནོར་འཁྲུལ་བྱུང་།',
  },
};

// One page's messages merged over the shared ones, per language.
export function withCommon(own) {
  const out = {};
  for (const lang of Object.keys(common)) out[lang] = { ...common[lang], ...(own[lang] || {}) };
  return out;
}
