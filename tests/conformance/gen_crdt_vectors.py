# Writes tests/conformance/crdt/*.json. The vectors are authored here in a
# compact form; every expected value is written by hand from the semantics
# (ABI.md, docs/json.md), never computed by ddata. Run: python3 tests/conformance/gen_crdt_vectors.py
import json, os
OUT=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'crdt')
def op(kind, **kw):
    d={'kind':kind}; d.update(kw); return d
def do(r, o, **kw):
    d={'replica':r,'op':o}; d.update(kw); return d
def merge(f,i): return {'merge':{'from':f,'into':i}}
def expect(r, value=None, equal_to=None):
    e={'replica':r}
    if value is not None: e['value']=value
    if equal_to is not None: e['equal_to']=equal_to
    return {'expect':e}
def case(name, typ, n, steps): return {'name':name,'type':typ,'replicas':n,'steps':steps}
def val(typ, v): return {'type':typ,'value':v}
def els(typ, e): return {'elements':e,'type':typ}
def ent(typ, pairs): return {'entries':[{'key':k,'value':v} for k,v in pairs],'type':typ}

files={}
files['counters.json']=[
 case('gcounter increments sum across replicas','GCounter',3,[
   do(0,op('increment',amount=3)), do(1,op('increment',amount=4)), do(2,op('increment',amount=0)),
   expect(0,val('GCounter',3)), merge(1,0), merge(2,0), merge(0,1), merge(0,1),
   expect(0,val('GCounter',7)), expect(1,val('GCounter',7),equal_to=0)]),
 case('gcounter delta equals the mutation','GCounter',2,[
   do(0,op('increment',amount=5),delta_to=[1]), do(0,op('increment',amount=2),delta_to=[1]),
   expect(1,val('GCounter',7),equal_to=0)]),
 case('gcounter rejects decrement','GCounter',1,[
   do(0,op('decrement',amount=1),expect_status='DD_ETYPE'), expect(0,val('GCounter',0))]),
 case('pncounter goes negative and converges','PNCounter',2,[
   do(0,op('increment',amount=2)), do(1,op('decrement',amount=5)), merge(0,1), merge(1,0),
   expect(0,val('PNCounter',-3)), expect(1,val('PNCounter',-3),equal_to=0)]),
 case('pncounter merge is idempotent','PNCounter',2,[
   do(0,op('increment',amount=10)), merge(0,1), merge(0,1), merge(1,1), expect(1,val('PNCounter',10))]),
 case('pncounter deltas carry the actor totals','PNCounter',2,[
   do(0,op('increment',amount=1)), do(0,op('decrement',amount=4),delta_to=[1]), expect(1,val('PNCounter',-4)),
   do(0,op('increment',amount=2),delta_to=[1]), expect(1,val('PNCounter',-1),equal_to=0)]),
 case('counter rejects set ops','PNCounter',1,[
   do(0,op('add',value='x'),expect_status='DD_ETYPE')]),
]
files['sets.json']=[
 case('gset is a union','GSet',2,[
   do(0,op('add',value='b')), do(1,op('add',value='a')), do(1,op('add',value='b')), merge(1,0),
   expect(0,els('GSet',['a','b']))]),
 case('gset cannot remove','GSet',1,[do(0,op('add',value='a')), do(0,op('remove',value='a'),expect_status='DD_ETYPE'), expect(0,els('GSet',['a']))]),
 case('gset binary elements','GSet',1,[do(0,op('add',value={'$bytes':'/wA='})), do(0,op('add',value='')), expect(0,els('GSet',['',{'$bytes':'/wA='}]))]),
 case('orset add then remove','ORSet',1,[
   do(0,op('add',value='x')), do(0,op('add',value='y')), do(0,op('remove',value='x')), expect(0,els('ORSet',['y']))]),
 case('orset concurrent add wins over remove','ORSet',2,[
   do(0,op('add',value='x')), merge(0,1), do(1,op('remove',value='x')), do(0,op('add',value='x')),
   merge(1,0), merge(0,1), expect(0,els('ORSet',['x'])), expect(1,els('ORSet',['x']),equal_to=0)]),
 case('orset observed remove propagates','ORSet',3,[
   do(0,op('add',value='x')), merge(0,1), merge(0,2), do(1,op('remove',value='x')), merge(1,2), merge(1,0),
   expect(0,els('ORSet',[])), expect(2,els('ORSet',[]),equal_to=0)]),
 case('orset remove of an unseen add does nothing','ORSet',2,[
   do(0,op('add',value='x')), do(1,op('remove',value='x')), merge(1,0), expect(0,els('ORSet',['x']))]),
 case('orset clear removes only what was observed','ORSet',2,[
   do(0,op('add',value='a')), merge(0,1), do(1,op('add',value='b')), do(0,op('clear')), merge(0,1), merge(1,0),
   expect(1,els('ORSet',['b'])), expect(0,els('ORSet',['b']),equal_to=1)]),
 case('orset deltas equal mutations','ORSet',2,[
   do(0,op('add',value='a'),delta_to=[1]), do(0,op('add',value='b'),delta_to=[1]), do(0,op('remove',value='a'),delta_to=[1]),
   expect(1,els('ORSet',['b']),equal_to=0)]),
 case('orset re-add after remove','ORSet',2,[
   do(0,op('add',value='x')), do(0,op('remove',value='x')), do(0,op('add',value='x')), merge(0,1), expect(1,els('ORSet',['x']),equal_to=0)]),
 case('orset rejects assign','ORSet',1,[do(0,op('assign',value='x'),expect_status='DD_ETYPE')]),
]
files['registers.json']=[
 case('lww later timestamp wins','LWWRegister',2,[
   do(0,op('assign',value='old'),now=100), do(1,op('assign',value='new'),now=200), merge(1,0), merge(0,1),
   expect(0,{'type':'LWWRegister','value':'new'}), expect(1,{'type':'LWWRegister','value':'new'},equal_to=0)]),
 case('lww timestamp tie goes to the higher actor','LWWRegister',2,[
   do(0,op('assign',value='from-9'),actor=9,now=500), do(1,op('assign',value='from-3'),actor=3,now=500), merge(0,1), merge(1,0),
   expect(1,{'type':'LWWRegister','value':'from-9'},equal_to=0)]),
 case('lww local write wins with a clock behind','LWWRegister',1,[
   do(0,op('assign',value='first'),now=1000), do(0,op('assign',value='second'),now=10),
   expect(0,{'type':'LWWRegister','value':'second'})]),
 case('lww empty register loses','LWWRegister',2,[
   do(0,op('assign',value='v'),now=1), merge(1,0), merge(0,1), expect(0,{'type':'LWWRegister','value':'v'}), expect(1,{'type':'LWWRegister','value':'v'})]),
 case('lww never assigned is null','LWWRegister',1,[expect(0,{'type':'LWWRegister','value':None})]),
 case('flag enables and stays','Flag',2,[
   expect(0,{'type':'Flag','value':False}), do(0,op('enable')), merge(1,0), merge(0,1), expect(1,{'type':'Flag','value':True})]),
 case('flag rejects assign','Flag',1,[do(0,op('assign',value='x'),expect_status='DD_ETYPE')]),
 case('mvregister keeps concurrent values','MVRegister',2,[
   do(0,op('assign',value='x')), do(1,op('assign',value='y')), merge(1,0), merge(0,1),
   expect(0,{'type':'MVRegister','values':['x','y']}), expect(1,{'type':'MVRegister','values':['x','y']},equal_to=0)]),
 case('mvregister later assign replaces concurrent values','MVRegister',2,[
   do(0,op('assign',value='x')), do(1,op('assign',value='y')), merge(1,0), do(0,op('assign',value='z'),delta_to=[1]),
   expect(1,{'type':'MVRegister','values':['z']}), expect(0,{'type':'MVRegister','values':['z']},equal_to=1)]),
 case('mvregister clear','MVRegister',1,[do(0,op('assign',value='x')), do(0,op('clear')), expect(0,{'type':'MVRegister','values':[]})]),
]
inc=lambda a: op('increment',amount=a)
files['maps.json']=[
 case('ormap nests counters and sets','ORMap',2,[
   do(0,op('update',key='hits',value_type='GCounter',nested=inc(2))),
   do(1,op('update',key='hits',value_type='GCounter',nested=inc(3))),
   do(1,op('update',key='users',value_type='ORSet',nested=op('add',value='u1'))),
   merge(1,0), merge(0,1),
   expect(0,ent('ORMap',[('hits',val('GCounter',5)),('users',els('ORSet',['u1']))])), expect(1,equal_to=0)]),
 case('ormap nested maps','ORMap',2,[
   do(0,op('update',key='outer',value_type='ORMap',nested=op('update',key='inner',value_type='LWWRegister',nested=op('assign',value='v'))),delta_to=[1]),
   expect(1,ent('ORMap',[('outer',ent('ORMap',[('inner',{'type':'LWWRegister','value':'v'})]))]),equal_to=0)]),
 case('ormap update with another type fails','ORMap',1,[
   do(0,op('update',key='k',value_type='GCounter',nested=inc(1))),
   do(0,op('update',key='k',value_type='ORSet',nested=op('add',value='x')),expect_status='DD_ETYPE'),
   expect(0,ent('ORMap',[('k',val('GCounter',1))]))]),
 case('ormap update needs a nested op','ORMap',1,[do(0,op('update',key='k',value_type='GCounter'),expect_status='DD_EINVAL')]),
 case('ormap concurrent update wins over remove','ORMap',2,[
   do(0,op('update',key='k',value_type='PNCounter',nested=inc(1))), merge(0,1),
   do(1,op('remove',key='k')), do(0,op('update',key='k',value_type='PNCounter',nested=inc(1))),
   merge(1,0), merge(0,1), expect(0,ent('ORMap',[('k',val('PNCounter',2))])), expect(1,equal_to=0)]),
 case('ormap removed key comes back fresh','ORMap',1,[
   do(0,op('update',key='k',value_type='GCounter',nested=inc(5))), do(0,op('remove',key='k')),
   do(0,op('update',key='k',value_type='GCounter',nested=inc(1))), expect(0,ent('ORMap',[('k',val('GCounter',1))]))]),
 case('lwwmap assign and remove','LWWMap',2,[
   do(0,op('assign',key='a',value='1'),now=10), do(1,op('assign',key='a',value='2'),now=20), do(0,op('assign',key='b',value='x'),now=10),
   merge(1,0), merge(0,1), expect(0,ent('LWWMap',[('a','2'),('b','x')])), do(0,op('remove',key='b'),delta_to=[1]),
   expect(1,ent('LWWMap',[('a','2')]),equal_to=0)]),
 case('pncountermap counts per key','PNCounterMap',2,[
   do(0,op('increment',key='x',amount=5)), do(1,op('decrement',key='x',amount=2)), do(1,op('increment',key='y',amount=1)),
   merge(0,1), merge(1,0), expect(0,ent('PNCounterMap',[('x',3),('y',1)])), expect(1,equal_to=0)]),
 case('gcountermap rejects decrement','GCounterMap',1,[
   do(0,op('increment',key='x',amount=5)), do(0,op('decrement',key='x',amount=1),expect_status='DD_ETYPE'),
   expect(0,ent('GCounterMap',[('x',5)]))]),
 case('ormultimap add and remove values','ORMultiMap',2,[
   do(0,op('add',key='k',value='a')), do(0,op('add',key='k',value='b')), do(1,op('add',key='k',value='c')),
   merge(1,0), do(0,op('remove',key='k',value='a'),delta_to=[1]), merge(0,1),
   expect(1,ent('ORMultiMap',[('k',['b','c'])])), do(1,op('remove',key='k')), expect(1,ent('ORMultiMap',[]))]),
 case('ormap clear removes only observed keys','ORMap',2,[
   do(0,op('update',key='a',value_type='Flag',nested=op('enable'))), merge(0,1),
   do(1,op('update',key='b',value_type='Flag',nested=op('enable'))), do(0,op('clear')), merge(0,1), merge(1,0),
   expect(0,ent('ORMap',[('b',{'type':'Flag','value':True})])), expect(1,equal_to=0)]),
 case('gcountermap remove then increment starts fresh','GCounterMap',1,[
   do(0,op('increment',key='x',amount=5)), do(0,op('remove',key='x')), expect(0,ent('GCounterMap',[])),
   do(0,op('increment',key='x',amount=2)), expect(0,ent('GCounterMap',[('x',2)]))]),
 case('lwwmap clear with deltas','LWWMap',2,[
   do(0,op('assign',key='a',value='1'),delta_to=[1]), do(0,op('assign',key='b',value='2'),delta_to=[1]),
   do(0,op('clear'),delta_to=[1]), expect(1,ent('LWWMap',[]),equal_to=0)]),
 case('ormultimap clear','ORMultiMap',1,[
   do(0,op('add',key='k',value='a')), do(0,op('clear')), expect(0,ent('ORMultiMap',[]))]),
 case('pncountermap concurrent remove and increment','PNCounterMap',2,[
   do(0,op('increment',key='x',amount=3)), merge(0,1), do(1,op('remove',key='x')), do(0,op('decrement',key='x',amount=1)),
   merge(0,1), merge(1,0), expect(0,ent('PNCounterMap',[('x',2)])), expect(1,equal_to=0)]),
 case('maps take update with their value type','PNCounterMap',1,[
   do(0,op('update',key='k',value_type='PNCounter',nested=op('decrement',amount=4))),
   do(0,op('update',key='k',value_type='GCounter',nested=inc(1)),expect_status='DD_ETYPE'),
   expect(0,ent('PNCounterMap',[('k',-4)]))]),
]
A1='0100000000000000'
files['decode.json']=[
 {'name':'empty input is corrupt','decode':{'hex':''},'expect_status':'DD_ECORRUPT'},
 {'name':'unknown version is corrupt','decode':{'hex':'020300'},'expect_status':'DD_ECORRUPT'},
 {'name':'unknown type is corrupt','decode':{'hex':'016300'},'expect_status':'DD_ECORRUPT'},
 {'name':'truncated orset is corrupt','decode':{'hex':'0104'},'expect_status':'DD_ECORRUPT'},
 {'name':'trailing bytes are corrupt','decode':{'hex':'01030000'},'expect_status':'DD_ECORRUPT'},
 {'name':'non-minimal varint is corrupt','decode':{'hex':'0103810001 61'.replace(' ','')},'expect_status':'DD_ECORRUPT'},
 {'name':'gset decodes','decode':{'hex':'010302016101 62'.replace(' ','')},'expect_status':'DD_OK'},
 {'name':'unsorted gset is corrupt','decode':{'hex':'01030201620161'},'expect_status':'DD_ECORRUPT'},
 {'name':'duplicate element is corrupt','decode':{'hex':'01030201610161'},'expect_status':'DD_ECORRUPT'},
 {'name':'too many elements is a limit','decode':{'hex':'01030201610162','limits':{'max_elements':1}},'expect_status':'DD_ELIMIT'},
 {'name':'too long an element is a limit','decode':{'hex':'010301026162','limits':{'max_value_bytes':1}},'expect_status':'DD_ELIMIT'},
 {'name':'too many bytes is a limit','decode':{'hex':'01030201610162','limits':{'max_bytes':3}},'expect_status':'DD_ELIMIT'},
 {'name':'gcounter zero slot is corrupt','decode':{'hex':'010101'+A1+'00'},'expect_status':'DD_ECORRUPT'},
 {'name':'flag byte 2 is corrupt','decode':{'hex':'010602'},'expect_status':'DD_ECORRUPT'},
 {'name':'orset dot outside its context is corrupt','decode':{'hex':'010401'+A1+'010001017801'+'0005'},'expect_status':'DD_ECORRUPT'},
 {'name':'orset decodes','decode':{'hex':'010401'+A1+'010001017801'+'0001'},'expect_status':'DD_OK'},
 {'name':'lww timestamp too far ahead is a limit','decode':{'hex':'010501'+'80ade204'+A1+'0176','now':1000},'expect_status':'DD_ELIMIT'},
 {'name':'lww timestamp within skew decodes','decode':{'hex':'010501'+'80ade204'+A1+'0176','now':10000000},'expect_status':'DD_OK'},
 {'name':'nested map within depth decodes','decode':{'hex':'010801'+A1+'0100'+'01016b'+'010001'+'08000000'},'expect_status':'DD_OK'},
 {'name':'nested map beyond depth is a limit','decode':{'hex':'010801'+A1+'0100'+'01016b'+'010001'+'08000000','limits':{'max_depth':1}},'expect_status':'DD_ELIMIT'},
 {'name':'lwwmap with a counter value is corrupt','decode':{'hex':'010901'+A1+'0100'+'01016b'+'010001'+'010100'},'expect_status':'DD_ECORRUPT'},
]
for f,cases in files.items():
    with open(os.path.join(OUT,f),'w') as fh:
        json.dump({'cases':cases},fh,indent=1,sort_keys=True,ensure_ascii=False)
        fh.write('\n')
print(sum(len(c) for c in files.values()),'cases')
